//! `enqueue_with_id.lua`: enqueue jobs under ids their producer chose, each
//! at most once.
//!
//! A job whose producer gave its id ([`crate::JobBuilder::id`]) claims an
//! idempotency marker, `P:{Q}:id:<id>`, in the same step as its enqueue, so
//! an enqueue retried after an unknown outcome is a no-op when the first
//! attempt was applied (see the script's header). Jobs with generated ids
//! never come here: their enqueue stays a bare `RPUSH` (store/enqueue.rs).

use redis::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::ops::schedule::ScheduleAt;
use crate::store::reply::array_reply;
use crate::store::scripts::{Call, SCRIPTS};

/// Most jobs in one `enqueue_with_id.lua` call (a few commands each, so a
/// call stays around a millisecond of Redis time).
pub(crate) const MAX_WITH_ID_PER_CALL: usize = 200;

/// One job enqueued under a producer-given id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdEnqueue<'a> {
    pub(crate) id: Uuid,
    pub(crate) record: &'a [u8],
    /// `None`: ready now.
    pub(crate) at: Option<ScheduleAt>,
}

/// What `enqueue_with_id.lua` did with one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdOutcome {
    /// The id was free: the job was enqueued.
    Enqueued(Uuid),
    /// The same job (type and payload) already holds the id: nothing written.
    Exists(Uuid),
    /// Another job holds the id: nothing written.
    Taken(Uuid),
}

/// One `enqueue_with_id.lua` call for `jobs`, all bound for `queue`;
/// markers live `window_ms`.
pub(crate) fn with_id_call(queue: &QueueKeys, jobs: &[IdEnqueue<'_>], window_ms: u64) -> Call {
    let markers: Vec<String> = jobs
        .iter()
        .map(|job| queue.id_marker(&job.id.to_string()))
        .collect();
    let mut keys = new_job_keys(queue);
    keys.extend(markers.iter().map(String::as_str));
    let mut call = SCRIPTS
        .enqueue_with_id
        .call(&keys)
        .arg(queue.events())
        .arg(window_ms);
    for job in jobs {
        call.push_arg(job.record);
        let (when, ms) = schedule_args(job.at);
        call.push_arg(when);
        call.push_arg(ms);
    }
    call
}

/// The four keys every script placing new jobs under ids takes first
/// (`enqueue_with_id.lua`, `enqueue_idempotent.lua`).
pub(crate) fn new_job_keys(queue: &QueueKeys) -> Vec<&str> {
    vec![
        queue.ready(),
        queue.priority(),
        queue.scheduled(),
        queue.jobs(),
    ]
}

/// A new job's schedule as those scripts take it: `now`, `in` or `at`, ms.
pub(crate) fn schedule_args(at: Option<ScheduleAt>) -> (&'static str, i64) {
    match at {
        None => ("now", 0),
        Some(ScheduleAt::In(ms)) => ("in", i64::try_from(ms).unwrap_or(i64::MAX)),
        Some(ScheduleAt::At(ms)) => ("at", ms),
    }
}

/// Reads `enqueue_with_id.lua`'s reply: one outcome per job, in order.
pub(crate) fn parse_with_id_replies(reply: Value) -> Result<Vec<IdOutcome>, Error> {
    const OP: &str = "enqueue_with_id";
    let parts = array_reply(reply, OP)?;
    if parts.len() % 2 != 0 {
        return Err(Error::protocol(OP, "reply is not {status, id} per job"));
    }
    parts
        .chunks_exact(2)
        .map(|pair| {
            let text = |value: &Value| match value {
                Value::BulkString(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
                other => Err(Error::protocol(OP, format!("expected text, got {other:?}"))),
            };
            let id: Uuid = text(&pair[1])?
                .parse()
                .map_err(|_| Error::protocol(OP, "a job id that is not a UUID"))?;
            match text(&pair[0])?.as_str() {
                "enqueued" => Ok(IdOutcome::Enqueued(id)),
                "exists" => Ok(IdOutcome::Exists(id)),
                "taken" => Ok(IdOutcome::Taken(id)),
                other => Err(Error::protocol(OP, format!("unknown status {other:?}"))),
            }
        })
        .collect()
}

impl Store {
    /// Enqueues jobs under their producer-given ids (`enqueue_with_id.lua`,
    /// one call): one outcome per job.
    pub(crate) async fn enqueue_with_id(
        &self,
        queue: &QueueKeys,
        jobs: &[IdEnqueue<'_>],
        window_ms: u64,
    ) -> Result<Vec<IdOutcome>, Error> {
        let reply: Value = with_id_call(queue, jobs, window_ms)
            .invoke(&mut self.conn.clone(), "enqueue")
            .await?;
        parse_with_id_replies(reply)
    }
}
