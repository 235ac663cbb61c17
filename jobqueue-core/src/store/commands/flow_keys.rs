//! Flow keys as stored: which keys of a queue are running or ready
//! (`P:{Q}:grun`, `P:{Q}:gready`), each key's list of waiting job ids
//! (`P:{Q}:g:<key>`), and whether a queue has had keyed jobs.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// One `HSCAN` reply: the next cursor and field/value pairs.
type HashScanPage = (u64, Vec<(String, u64)>);

impl Store {
    /// True when `queue` has had keyed jobs (workers then fetch it with
    /// `fetch_limited.lua`).
    pub async fn has_keyed_jobs(&self, queue: &QueueKeys) -> Result<bool, Error> {
        redis::cmd("EXISTS")
            .arg(queue.flow_marker())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("has_keyed_jobs"))
    }

    /// Up to `count` running keys with their leased jobs, and up to
    /// `count` ready or rate-parked keys in the order they will be served,
    /// in one round trip.
    pub async fn flow_key_candidates(
        &self,
        queue: &QueueKeys,
        count: usize,
    ) -> Result<(Vec<(String, u64)>, Vec<String>), Error> {
        let count = count.max(1);
        let ((_, running), ready): (HashScanPage, Vec<String>) = redis::pipe()
            .cmd("HSCAN")
            .arg(queue.flow_running())
            .arg(0)
            .arg("COUNT")
            .arg(count)
            .zrange(queue.flow_ready(), 0, (count - 1) as isize)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("flow_keys"))?;
        Ok((running, ready))
    }

    /// The length of each flow key's list of waiting jobs, in order.
    pub async fn flow_list_lengths(
        &self,
        queue: &QueueKeys,
        keys: &[String],
    ) -> Result<Vec<u64>, Error> {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.llen(queue.flow_list(key));
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("flow_keys"))
    }

    /// For each `(key, first index, count)`, that window of the key's list
    /// of waiting job ids, in one round trip.
    pub async fn flow_list_windows(
        &self,
        queue: &QueueKeys,
        windows: &[(&str, usize, usize)],
    ) -> Result<Vec<Vec<String>>, Error> {
        let mut pipe = redis::pipe();
        for (key, from, take) in windows {
            pipe.lrange(
                queue.flow_list(key),
                *from as isize,
                (*from + (*take).max(1) - 1) as isize,
            );
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("flow_list"))
    }
}
