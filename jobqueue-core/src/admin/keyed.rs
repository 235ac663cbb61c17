//! The `keyed` listing ([`BrowseState::Keyed`](crate::admin::BrowseState::Keyed)):
//! jobs waiting in their flow keys' lists (keyed flow control, see
//! [`crate::admin::keys`]), which the ready list does not hold.
//!
//! The listing is the concatenation of the keys' lists, keys in the order
//! of [`Admin::flow_keys`] (running keys, then ready ones in serving
//! order), each key's jobs in the order they will run; a cursor is a rank
//! in it. To bound the cost of a page it covers the first
//! [`MAX_PAGE_SIZE`] keys with work: the total and each window read the
//! key names (one pipeline) and their list lengths (one pipeline of at
//! most 1000 `LLEN`s); a window then reads one `LRANGE` per key it touches
//! (one pipeline) and the records (one `HMGET`). An unfiltered page is one
//! window; a filtered one at most ten.

use crate::admin::handle::{Admin, MAX_PAGE_SIZE};
use crate::admin::jobs::{JobInfo, JobState};
use crate::error::Error;
use crate::store::keys::QueueKeys;

impl Admin {
    /// The listed keys with waiting jobs (the first 1000 of them) and
    /// their list lengths, in listing order. Running keys with nothing
    /// waiting are dropped before the cut, so they cannot crowd out ready
    /// keys that hold jobs.
    async fn keyed_lists(&self, q: &QueueKeys) -> Result<Vec<(String, u64)>, Error> {
        let (names, _) = self.flow_key_candidates(q, MAX_PAGE_SIZE).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let lengths = self.store.flow_list_lengths(q, &names).await?;
        Ok(names
            .into_iter()
            .zip(lengths)
            .filter(|(_, len)| *len > 0)
            .take(MAX_PAGE_SIZE)
            .collect())
    }

    /// Jobs in the keyed listing (those of the first 1000 keys with work).
    pub(super) async fn keyed_size(&self, q: &QueueKeys) -> Result<u64, Error> {
        Ok(self.keyed_lists(q).await?.iter().map(|(_, len)| len).sum())
    }

    /// Up to `count` jobs of the keyed listing from rank `start`, as ready
    /// jobs carrying their flow key. A slot is `None` when its record
    /// vanished between the reads.
    pub(super) async fn keyed_window(
        &self,
        q: &QueueKeys,
        start: usize,
        count: usize,
    ) -> Result<Vec<Option<JobInfo>>, Error> {
        let lists = self.keyed_lists(q).await?;
        let ranges = ranges_for(&lists, start, count.clamp(1, MAX_PAGE_SIZE));
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = self
            .store
            .flow_list_windows(q, &ranges)
            .await?
            .into_iter()
            .flatten()
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let records = self.store.stored_records(q, &ids).await?;
        Ok(records
            .into_iter()
            .map(|record| record.map(|r| JobInfo::from_record(q.name(), JobState::Ready, &r, None)))
            .collect())
    }
}

/// The `(key, first index, how many)` list windows that hold ranks
/// `start..start + count` of the concatenation of `lists`.
fn ranges_for(lists: &[(String, u64)], start: usize, count: usize) -> Vec<(&str, usize, usize)> {
    let mut skip = start;
    let mut left = count;
    let mut out = Vec::new();
    for (key, len) in lists {
        let len = usize::try_from(*len).unwrap_or(usize::MAX);
        if skip >= len {
            skip -= len;
            continue;
        }
        let take = (len - skip).min(left);
        out.push((key.as_str(), skip, take));
        skip = 0;
        left -= take;
        if left == 0 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ranges_for;

    #[test]
    fn windows_span_keys() {
        let lists = [
            ("a".to_owned(), 3),
            ("b".to_owned(), 2),
            ("c".to_owned(), 4),
        ];
        assert_eq!(ranges_for(&lists, 0, 2), [("a", 0, 2)]);
        assert_eq!(
            ranges_for(&lists, 2, 4),
            [("a", 2, 1), ("b", 0, 2), ("c", 0, 1)]
        );
        assert_eq!(ranges_for(&lists, 5, 10), [("c", 0, 4)]);
        assert_eq!(ranges_for(&lists, 8, 10), [("c", 3, 1)]);
        assert!(ranges_for(&lists, 9, 10).is_empty());
        assert!(ranges_for(&[], 0, 10).is_empty());
    }
}
