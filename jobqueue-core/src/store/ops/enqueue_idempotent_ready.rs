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
    // ARGV: the channel, the record, the window (≤ 20 digits), the digest.
    let argv_bytes = queue.events().len() + job.job.record.len() + 20 + job.content_digest.len();
    SCRIPTS
        .enqueue_idempotent_ready
        .call_sized(&[queue.ready(), &marker], 4, argv_bytes)
        .arg(queue.events())
        .arg(job.job.record)
        .arg(job.window_ms.max(1))
        .arg(job.content_digest)
}
