//! The waits of recent keyed job starts as stored: `P:{Q}:gwaits`, a list
//! of `<wait ms>:<flow key>`, newest first, written by `fetch_limited.lua`
//! for every keyed job it leases and trimmed to [`WAIT_SAMPLES`] there.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// How many recent keyed starts `P:{Q}:gwaits` keeps (`GWAIT_SAMPLES` in
/// `fetch_limited.lua`): the window the per-key wait percentiles cover.
pub const WAIT_SAMPLES: usize = 5000;

/// One recent keyed start: how long its job waited, and its flow key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitSample {
    /// Milliseconds from ready (enqueued, or due) to leased.
    pub wait_ms: u64,
    /// The job's flow key.
    pub key: String,
}

impl WaitSample {
    /// Parses `<wait ms>:<flow key>` (the key may hold `:` itself).
    pub(crate) fn parse(entry: &str) -> Option<Self> {
        let (wait, key) = entry.split_once(':')?;
        Some(Self {
            wait_ms: wait.parse().ok()?,
            key: key.to_owned(),
        })
    }
}

impl Store {
    /// The waits of the latest keyed starts of `queue`, newest first (at
    /// most [`WAIT_SAMPLES`]; malformed entries are skipped).
    pub async fn flow_wait_samples(&self, queue: &QueueKeys) -> Result<Vec<WaitSample>, Error> {
        let raw: Vec<String> = redis::cmd("LRANGE")
            .arg(queue.flow_waits())
            .arg(0)
            .arg(WAIT_SAMPLES as isize - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("flow_waits"))?;
        Ok(raw
            .iter()
            .filter_map(|entry| WaitSample::parse(entry))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_keeps_as_many_samples_as_are_read() {
        let script = include_str!("../../lua/fetch_limited.lua");
        assert!(script.contains(&format!("local GWAIT_SAMPLES = {WAIT_SAMPLES}\n")));
    }

    #[test]
    fn samples_keep_the_colons_of_their_key() {
        assert_eq!(
            WaitSample::parse("125:tenant:a:b"),
            Some(WaitSample {
                wait_ms: 125,
                key: "tenant:a:b".into()
            })
        );
        assert_eq!(WaitSample::parse("x:tenant:a"), None);
        assert_eq!(WaitSample::parse("12"), None);
    }
}
