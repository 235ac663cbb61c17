//! Fetch transition: `fetch.lua`.

use redis::Value;

use super::scripts::SCRIPTS;
use super::{Store, array_reply, int_reply};
use crate::error::Error;
use crate::store::keys::QueueKeys;

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

    /// Like [`Store::fetch`], for a queue with flow limits or keyed jobs
    /// (`fetch_limited.lua`): leases only what the limits allow now, across
    /// every worker, serving ready flow keys beside the ready list;
    /// [`FetchStatus::Limited`] says when to ask again.
    ///
    /// `workers` is the caller's list of the workers leasing on the queue
    /// (for the running limit); it starts empty, is corrected by the script
    /// when out of date, and should be passed again next time, so a fetch
    /// normally costs one round trip.
    pub async fn fetch_limited(
        &self,
        queue: &QueueKeys,
        active_key: &str,
        worker_id: &str,
        max: usize,
        workers: &mut Vec<String>,
    ) -> Result<FetchReply, Error> {
        const OP: &str = "fetch";
        /// Corrections before giving up (workers joining and leaving fast).
        const MAX_TRIES: usize = 5;
        let max = max.clamp(1, MAX_FETCH_BATCH);
        let (limits, rate) = (queue.limits(), queue.rate());
        let (flow_ready, flow_running, flow_limits) = (
            queue.flow_ready(),
            queue.flow_running(),
            queue.flow_limits(),
        );
        for _ in 0..MAX_TRIES {
            let all_active: Vec<String> = workers.iter().map(|w| queue.active(w)).collect();
            let mut keys: Vec<&str> = vec![
                queue.ready(),
                queue.priority(),
                active_key,
                queue.leases(),
                queue.paused(),
                &limits,
                &rate,
                &flow_ready,
                &flow_running,
                &flow_limits,
                queue.jobs(),
            ];
            keys.extend(all_active.iter().map(String::as_str));
            let mut call = SCRIPTS.fetch_limited.call(&keys).arg(worker_id).arg(max);
            for worker in workers.iter() {
                call.push_arg(worker.as_str());
            }
            let reply: Value = call.invoke(&mut self.conn.clone(), OP).await?;
            if let Value::Array(items) = &reply
                && let Some(first) = items.first()
                && int_reply(first, OP)? == 4
            {
                *workers = items[1..]
                    .iter()
                    .map(|item| match item {
                        Value::BulkString(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
                        other => Err(Error::protocol(
                            OP,
                            format!("expected a worker id, got {other:?}"),
                        )),
                    })
                    .collect::<Result<_, _>>()?;
                continue;
            }
            return parse_fetch_reply(reply);
        }
        Err(Error::protocol(
            OP,
            "the leasing workers kept changing; try again",
        ))
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
