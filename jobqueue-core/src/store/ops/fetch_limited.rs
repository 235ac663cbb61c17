//! `fetch_limited.lua`: lease ready jobs from a queue with flow limits or
//! keyed jobs.

use crate::store::ops::fetch::{FetchReply, MAX_FETCH_BATCH, parse_fetch_reply};
use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Like [`Store::fetch`], for a queue with flow limits or keyed jobs
    /// (`fetch_limited.lua`): leases only what the limits allow now, across
    /// every worker, serving ready flow keys beside the ready list;
    /// [`FetchStatus::Limited`](crate::store::FetchStatus::Limited) says when to ask again.
    ///
    /// `workers` is the caller's list of the workers leasing on the queue
    /// (for the running limit); it starts empty, is corrected by the script
    /// when out of date, and should be passed again next time, so a fetch
    /// normally costs one round trip.
    ///
    /// At the running limit the reply says to ask again after `recheck`
    /// (the fallback: the script also sets the queue's waiter flag, so the
    /// next job to end publishes `w` and the waiting workers ask at once).
    pub async fn fetch_limited(
        &self,
        queue: &QueueKeys,
        active_key: &str,
        worker_id: &str,
        max: usize,
        recheck: std::time::Duration,
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
        let (slot_waiter, rate_window) = (queue.slot_waiter(), queue.rate_window());
        let recheck_ms = u64::try_from(recheck.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
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
                &slot_waiter,
                &rate_window,
            ];
            keys.extend(all_active.iter().map(String::as_str));
            let mut call = SCRIPTS
                .fetch_limited
                .call(&keys)
                .arg(worker_id)
                .arg(max)
                .arg(recheck_ms);
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
