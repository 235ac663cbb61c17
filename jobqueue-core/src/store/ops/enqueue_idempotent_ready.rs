//! `enqueue_idempotent_ready.lua`: enqueue one plain job that runs now
//! under an idempotency key — the single-enqueue fast path of
//! `enqueue_idempotent.lua` (one `SET … NX PX … GET` and the `RPUSH`,
//! only `include/lib.lua` prepended). The reply has the general script's
//! shape, read by `parse_idempotent_replies` (`enqueue_idempotent.rs`).

use crate::store::keys::QueueKeys;
use crate::store::ops::enqueue_idempotent::KeyedEnqueue;
use crate::store::scripts::{Call, SCRIPTS};

/// Whether `job` may take the fast path: one job that runs now without
/// priority or flow key, whose id was generated.
pub(crate) fn takes_ready_path(job: &KeyedEnqueue<'_>) -> bool {
    job.plain_ready && !job.given_id && job.job.at.is_none()
}

/// One `enqueue_idempotent_ready.lua` call for `job` (which
/// [`takes_ready_path`]), bound for `queue`.
pub(crate) fn ready_idempotent_call(queue: &QueueKeys, job: &KeyedEnqueue<'_>) -> Call {
    let marker = queue.idempotency(job.key_digest);
    SCRIPTS
        .enqueue_idempotent_ready
        .call(&[queue.ready(), &marker])
        .arg(queue.events())
        .arg(job.job.record)
        .arg(job.window_ms.max(1))
        .arg(job.content_digest)
}
