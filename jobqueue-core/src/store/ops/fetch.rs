//! `fetch.lua`: lease up to N ready jobs to one worker.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, int_reply};
use crate::store::scripts::SCRIPTS;

/// Most jobs leased in one fetch call.
pub const MAX_FETCH_BATCH: usize = 1000;

/// What a fetch found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchStatus {
    /// Zero or more records were leased.
    Ok,
    /// The queue is paused: nothing was leased.
    Paused,
    /// The worker holds no lease on the queue (first fetch, or lease lost):
    /// heartbeat, then fetch again.
    NoLease,
    /// The queue's flow limits allow nothing now (`fetch_limited.lua`):
    /// ask again after this many milliseconds.
    Limited {
        /// When to ask again, ms from now.
        retry_after_ms: u64,
    },
}

/// The reply of one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReply {
    /// Whether anything could be leased.
    pub status: FetchStatus,
    /// The leased records, in the order they should run.
    pub records: Vec<Vec<u8>>,
}

impl Store {
    /// Leases up to `max` ready jobs of `queue` to worker `worker_id`, whose
    /// active hash is `active_key` (`QueueKeys::active(worker_id)`).
    pub async fn fetch(
        &self,
        queue: &QueueKeys,
        active_key: &str,
        worker_id: &str,
        max: usize,
    ) -> Result<FetchReply, Error> {
        const OP: &str = "fetch";
        let max = max.clamp(1, MAX_FETCH_BATCH);
        let reply: Value = SCRIPTS
            .fetch
            .call(&[
                queue.ready(),
                queue.priority(),
                active_key,
                queue.leases(),
                queue.paused(),
            ])
            .arg(worker_id)
            .arg(max)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        parse_fetch_reply(reply)
    }
}

/// Reads `fetch.lua`'s reply: a status code followed by the leased records.
pub fn parse_fetch_reply(reply: Value) -> Result<FetchReply, Error> {
    const OP: &str = "fetch";
    let mut items = array_reply(reply, OP)?.into_iter();
    let status = match items.next() {
        Some(first) => match int_reply(&first, OP)? {
            0 => FetchStatus::Ok,
            1 => FetchStatus::Paused,
            2 => FetchStatus::NoLease,
            3 => {
                let wait = items.next().map(|v| int_reply(&v, OP)).transpose()?;
                FetchStatus::Limited {
                    retry_after_ms: u64::try_from(wait.unwrap_or(0)).unwrap_or(0),
                }
            }
            other => return Err(Error::protocol(OP, format!("unknown status {other}"))),
        },
        None => return Err(Error::protocol(OP, "empty reply")),
    };
    let records = items
        .map(|item| match item {
            Value::BulkString(bytes) => Ok(bytes),
            other => Err(Error::protocol(
                OP,
                format!("expected a record, got {other:?}"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FetchReply { status, records })
}
