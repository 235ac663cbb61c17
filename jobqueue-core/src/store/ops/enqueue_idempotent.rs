//! `enqueue_idempotent.lua`: enqueue jobs under idempotency keys, at most
//! one job per key within the key's window, even after that job finished.
//!
//! A job enqueued with [`crate::JobBuilder::idempotency_key`] sets its
//! key's marker `P:{Q}:idem:<sha256>` in the same step as its enqueue;
//! the same key then answers with the original job (same content) or a
//! conflict (different content) for the key's window.
//!
//! A single job's call goes over the producer's direct lane when it is
//! free (`Store::enqueue_idempotent` in `store/enqueue.rs`, which sends a
//! plain job that runs now to `enqueue_idempotent_ready.lua` instead).

use redis::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::ops::enqueue_with_id::{IdEnqueue, new_job_keys, schedule_args};
use crate::store::reply::{array_reply, text_bytes};
use crate::store::scripts::{Call, SCRIPTS};

/// One job enqueued under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyedEnqueue<'a> {
    /// The job, as `enqueue_with_id.lua` takes it.
    pub(crate) job: IdEnqueue<'a>,
    /// SHA-256 (hex) of the idempotency key.
    pub(crate) key_digest: &'a str,
    /// How long the key holds, ms.
    pub(crate) window_ms: u64,
    /// SHA-1 (hex) of the job's type and payload (`<type>\n<payload>`):
    /// what makes two enqueues of the key "the same job".
    pub(crate) content_digest: &'a str,
    /// The producer gave the job's id (`JobBuilder::id`): the enqueue also
    /// claims the id's marker. A generated id needs no marker.
    pub(crate) given_id: bool,
    /// The job runs now without priority or flow key (a plain enqueue
    /// would `RPUSH` it): alone, it may take `enqueue_idempotent_ready.lua`.
    pub(crate) plain_ready: bool,
}

/// What `enqueue_idempotent.lua` did with one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOutcome {
    /// The key was free: the job was enqueued.
    Enqueued(Uuid),
    /// The key is held by this job (same type and payload), or the given
    /// id by the same job: nothing written.
    Exists(Uuid),
    /// The key is held by a job with another type or payload.
    Conflict(Uuid),
    /// The given id is held by another job.
    Taken(Uuid),
}

/// One `enqueue_idempotent.lua` call for `jobs`, all bound for `queue`;
/// id markers live `id_window_ms`.
pub(crate) fn idempotent_call(
    queue: &QueueKeys,
    jobs: &[KeyedEnqueue<'_>],
    id_window_ms: u64,
) -> Call {
    let per_job: Vec<String> = jobs
        .iter()
        .flat_map(|job| {
            [
                queue.idempotency(job.key_digest),
                queue.id_marker(&job.job.id.to_string()),
            ]
        })
        .collect();
    let mut keys = new_job_keys(queue);
    keys.extend(per_job.iter().map(String::as_str));
    let mut call = SCRIPTS
        .enqueue_idempotent
        .call(&keys)
        .arg(queue.events())
        .arg(id_window_ms);
    for job in jobs {
        call.push_arg(job.job.record);
        let (when, ms) = schedule_args(job.job.at);
        call.push_arg(when);
        call.push_arg(ms);
        call.push_arg(job.window_ms.max(1));
        call.push_arg(job.content_digest);
        call.push_arg(if job.given_id { "given" } else { "generated" });
    }
    call
}

/// Reads `enqueue_idempotent.lua`'s reply: one outcome per job, in order.
pub(crate) fn parse_idempotent_replies(reply: Value) -> Result<Vec<KeyOutcome>, Error> {
    const OP: &str = "enqueue_idempotent";
    let parts = array_reply(reply, OP)?;
    if parts.len() % 2 != 0 {
        return Err(Error::protocol(OP, "reply is not {status, id} per job"));
    }
    parts
        .chunks_exact(2)
        .map(|pair| {
            // Read in place: no copy of either text.
            let status = text_bytes(&pair[0]).unwrap_or_default();
            let id = text_bytes(&pair[1])
                .and_then(|text| Uuid::try_parse_ascii(text).ok())
                .ok_or_else(|| Error::protocol(OP, "a job id that is not a UUID"))?;
            match status {
                b"enqueued" => Ok(KeyOutcome::Enqueued(id)),
                b"exists" => Ok(KeyOutcome::Exists(id)),
                b"conflict" => Ok(KeyOutcome::Conflict(id)),
                b"taken" => Ok(KeyOutcome::Taken(id)),
                other => Err(Error::protocol(
                    OP,
                    format!("unknown status {:?}", String::from_utf8_lossy(other)),
                )),
            }
        })
        .collect()
}
