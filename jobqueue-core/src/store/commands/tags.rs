//! Reads behind job search: a page of a tag's index (newest first, from a
//! cursor id), and the bounded scan steps over the jobs hash that a search
//! by id prefix, job type, batch or payload field takes. Each read is one
//! bounded command; none runs a script, so no search can hold Redis up.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

impl Store {
    /// Up to `count` job ids of `tag`'s index, newest first, strictly older
    /// than `before` (a job id; `None` starts at the newest). One
    /// `ZREVRANGEBYLEX … LIMIT`: O(log n + count).
    pub async fn tag_page(
        &self,
        queue: &QueueKeys,
        tag: &str,
        before: Option<&str>,
        count: usize,
    ) -> Result<Vec<String>, Error> {
        let max = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
        redis::cmd("ZREVRANGEBYLEX")
            .arg(queue.tag(tag))
            .arg(max)
            .arg("-")
            .arg("LIMIT")
            .arg(0)
            .arg(count.max(1))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("tag_page"))
    }

    /// Entries in `tag`'s index (jobs enqueued with it in the index's
    /// retention, including ended ones).
    pub async fn tag_size(&self, queue: &QueueKeys, tag: &str) -> Result<u64, Error> {
        self.set_size(&queue.tag(tag)).await
    }

    /// Where a job search can look: (records in the jobs hash, in the ready
    /// list, in the priority set).
    pub async fn searchable_sizes(&self, queue: &QueueKeys) -> Result<(u64, u64, u64), Error> {
        redis::pipe()
            .hlen(queue.jobs())
            .llen(queue.ready())
            .zcard(queue.priority())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("searchable_sizes"))
    }

    /// One `HSCAN` step over the jobs hash from `cursor`, asking for about
    /// `count` entries: the next cursor (0 when the scan is complete) and
    /// the (id, record) pairs returned.
    pub async fn scan_stored_records(
        &self,
        queue: &QueueKeys,
        cursor: u64,
        count: usize,
    ) -> Result<(u64, Vec<(String, Vec<u8>)>), Error> {
        redis::cmd("HSCAN")
            .arg(queue.jobs())
            .arg(cursor)
            .arg("COUNT")
            .arg(count.max(1))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("scan_stored_records"))
    }
}
