//! `enqueue_unique.lua`: enqueue unique jobs: at most one per uniqueness key.
//!
//! Called by the client for jobs with `unique_for`. Locks are freed by the
//! scripts that record a job's end (`ack.lua`, `ack_keyed.lua`,
//! `ack_parents.lua`, `bury.lua`, `cancel.lua`, `expire.lua`).

use redis::Value;
use uuid::Uuid;

use crate::client::unique::{UniqueMode, UniqueOutcome};
use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::ops::schedule::ScheduleAt;
use crate::store::reply::array_reply;
use crate::store::scripts::{Call, SCRIPTS};

/// One unique enqueue's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UniqueEnqueue<'a> {
    pub(crate) digest: &'a str,
    pub(crate) ttl_ms: u64,
    pub(crate) mode: UniqueMode,
    pub(crate) record: &'a [u8],
    /// `None`: ready now.
    pub(crate) at: Option<ScheduleAt>,
}

/// Most unique jobs in one `enqueue_unique.lua` call: each costs a few
/// commands, so a call of this many stays around a millisecond of Redis
/// time.
pub(crate) const MAX_UNIQUE_PER_CALL: usize = 200;

/// One `enqueue_unique.lua` call for `jobs`, all bound for `queue`.
pub(crate) fn unique_call(queue: &QueueKeys, jobs: &[UniqueEnqueue<'_>]) -> Call {
    let locks: Vec<String> = jobs.iter().map(|job| queue.unique(job.digest)).collect();
    let mut keys = vec![
        queue.scheduled(),
        queue.retry(),
        queue.jobs(),
        queue.ready(),
        queue.priority(),
    ];
    keys.extend(locks.iter().map(String::as_str));
    let mut call = SCRIPTS.enqueue_unique.call(&keys).arg(queue.events());
    for job in jobs {
        call.push_arg(job.mode.as_arg());
        call.push_arg(job.ttl_ms);
        call.push_arg(job.record);
        match job.at {
            None => {
                call.push_arg("now");
                call.push_arg(0);
            }
            Some(ScheduleAt::In(ms)) => {
                call.push_arg("in");
                call.push_arg(ms);
            }
            Some(ScheduleAt::At(ms)) => {
                call.push_arg("at");
                call.push_arg(ms);
            }
        }
    }
    call
}

/// Reads `enqueue_unique.lua`'s reply: one outcome per job, in order.
pub(crate) fn parse_unique_replies(reply: Value) -> Result<Vec<UniqueOutcome>, Error> {
    const OP: &str = "enqueue_unique";
    let parts = array_reply(reply, OP)?;
    if parts.len() % 3 != 0 {
        return Err(Error::protocol(
            OP,
            "reply is not {status, id, replaced} per job",
        ));
    }
    parts.chunks_exact(3).map(parse_outcome).collect()
}

/// One job's {status, id, replaced} triple.
fn parse_outcome(triple: &[Value]) -> Result<UniqueOutcome, Error> {
    const OP: &str = "enqueue_unique";
    let text = |value: &Value| match value {
        Value::BulkString(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        other => Err(Error::protocol(OP, format!("expected text, got {other:?}"))),
    };
    let [status, id, replaced] = triple else {
        return Err(Error::protocol(OP, "reply is not {status, id, replaced}"));
    };
    let id: Uuid = text(id)?
        .parse()
        .map_err(|_| Error::protocol(OP, "a job id that is not a UUID"))?;
    let replaced = text(replaced)?.parse::<Uuid>().ok();
    match text(status)?.as_str() {
        "enqueued" => Ok(UniqueOutcome::Enqueued { id }),
        "duplicate" => Ok(UniqueOutcome::Duplicate { existing: id }),
        "debounced" => Ok(UniqueOutcome::Debounced { existing: id }),
        "replaced" => Ok(UniqueOutcome::Replaced { id, replaced }),
        other => Err(Error::protocol(OP, format!("unknown status {other:?}"))),
    }
}

impl Store {
    /// Enqueues one unique job (`enqueue_unique.lua`).
    pub(crate) async fn enqueue_unique(
        &self,
        queue: &QueueKeys,
        job: &UniqueEnqueue<'_>,
    ) -> Result<UniqueOutcome, Error> {
        let reply: Value = unique_call(queue, std::slice::from_ref(job))
            .invoke(&mut self.conn.clone(), "enqueue_unique")
            .await?;
        parse_unique_replies(reply)?
            .pop()
            .ok_or_else(|| Error::protocol("enqueue_unique", "no outcome for the job"))
    }
}
