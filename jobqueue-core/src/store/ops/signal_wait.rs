//! `signal_wait.lua`: a running durable job waits for a signal: takes it if
//! it came (or its wait timed out), or parks the job until it comes.

use std::time::Duration;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::{array_reply, text_reply};
use crate::store::scripts::SCRIPTS;

/// What a wait for a signal came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalWait {
    /// This worker no longer holds the job: nothing changed.
    Lost,
    /// The wait is over: `R <payload JSON>` (received) or `T` (timed out),
    /// now in the memo.
    Done(String),
    /// The job left this worker: it waits in the retry set until the
    /// signal comes or this deadline (ms since the epoch) passes.
    Parked(i64),
}

/// One wait: which job, for which signal, how long.
#[derive(Debug, Clone, Copy)]
pub struct SignalWaitRequest<'a> {
    /// The job id.
    pub id: &'a str,
    /// The worker holding it.
    pub worker_id: &'a str,
    /// The signal name.
    pub name: &'a str,
    /// How long to wait from the first wait.
    pub timeout: Duration,
    /// How long the memo is kept after the deadline.
    pub memo_ttl: Duration,
}

impl Store {
    /// Job `request.id` waits for signal `request.name` (see
    /// [`SignalWait`]).
    pub async fn signal_wait(
        &self,
        queue: &QueueKeys,
        request: SignalWaitRequest<'_>,
    ) -> Result<SignalWait, Error> {
        const OP: &str = "signal_wait";
        let active = queue.active(request.worker_id);
        let steps = queue.steps(request.id);
        let signals = queue.signals(request.id);
        let parked = queue.signal_wait();
        let status = queue.status(request.id);
        let keys = [
            active.as_str(),
            queue.leases(),
            steps.as_str(),
            signals.as_str(),
            queue.retry(),
            queue.jobs(),
            parked.as_str(),
            status.as_str(),
        ];
        let reply: Value = SCRIPTS
            .signal_wait
            .call(&keys)
            .arg(request.id)
            .arg(request.worker_id)
            .arg(request.name)
            .arg(u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX))
            .arg(u64::try_from(request.memo_ttl.as_millis()).unwrap_or(u64::MAX))
            .arg(queue.events())
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts: Vec<String> = array_reply(reply, OP)?
            .iter()
            .filter_map(text_reply)
            .collect();
        match (parts.first().map(String::as_str), parts.get(1)) {
            (Some("lost"), _) => Ok(SignalWait::Lost),
            (Some("done"), Some(value)) => Ok(SignalWait::Done(value.clone())),
            (Some("parked"), Some(deadline)) => deadline
                .parse()
                .map(SignalWait::Parked)
                .map_err(|_| Error::protocol(OP, "a deadline that is not a number")),
            _ => Err(Error::protocol(OP, format!("unexpected reply {parts:?}"))),
        }
    }
}
