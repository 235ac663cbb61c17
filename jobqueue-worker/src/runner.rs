//! Running one leased job and deciding what happens to it next.
//!
//! Nothing here can take the worker down: a record that does not decode,
//! an unknown job type, a panic or a timeout all become an [`Outcome`]
//! with a readable reason, and the job goes to the retry or dead set.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use jobqueue_core::record::{
    Envelope, ErrorEntry, FailureKind, decode_record, encode_record, record_id,
    truncate_at_char_boundary, uuid_v7_millis,
};
use jobqueue_core::{JobContext, JobContextParts, JobErrorAction};
use tracing::Instrument;
use uuid::Uuid;

use crate::middleware::Next;
use crate::runtime::Shared;

/// What to do with a finished run.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Succeeded: acknowledge.
    Succeeded,
    /// Run again after `delay`; `record` carries the updated envelope.
    /// `failed` is false for a snooze (no attempt counted).
    Retry {
        delay: Duration,
        record: Vec<u8>,
        failed: bool,
    },
    /// Will not run again: file `record` in the dead set under `dead_id`.
    Dead { dead_id: String, record: Vec<u8> },
}

/// A leased job: the record exactly as fetched, and the queue it came from.
pub(crate) struct Leased {
    pub(crate) queue: usize,
    pub(crate) record: Vec<u8>,
}

impl Leased {
    /// The id the scripts leased it under: bytes 8-43 of the record, as
    /// Lua's `string.sub(record, 8, 43)` reads them.
    pub(crate) fn leased_id(&self) -> Vec<u8> {
        let end = self.record.len().min(43);
        self.record.get(7..end).unwrap_or_default().to_vec()
    }
}

/// A run that could not start, and why.
struct Refusal {
    kind: FailureKind,
    message: String,
}

/// Runs a leased job to its outcome.
pub(crate) async fn run(shared: &Arc<Shared>, leased: &Leased) -> Outcome {
    let queue = &shared.queues[leased.queue];
    let (mut envelope, payload) = match decode_record(&leased.record) {
        Ok(decoded) => decoded,
        Err(err) => return malformed(&leased.record, &err.to_string()),
    };
    let attempt = envelope.attempt.saturating_add(1);
    let Some(handler) = shared.registry.get(&envelope.job_type) else {
        let refusal = Refusal {
            kind: FailureKind::UnknownType,
            message: format!(
                "no handler for job type '{}' in worker {} (registered: {}); every worker \
                 consuming queue '{}' must register every job type sent to it",
                envelope.job_type,
                shared.worker_id,
                shared.registry.names().join(", "),
                queue.name
            ),
        };
        return dead(envelope, payload, attempt, refusal);
    };
    let max_attempts = envelope
        .max_attempts
        .unwrap_or(handler.max_attempts())
        .max(1);
    if attempt > max_attempts {
        let lost = (attempt - 1).saturating_sub(envelope.errors.last().map_or(0, |e| e.attempt));
        let refusal = Refusal {
            kind: FailureKind::Exhausted,
            message: format!(
                "attempt {attempt} exceeds the limit of {max_attempts} attempts; the last {lost} \
                 run(s) were lost with their worker (lease expired) — a job that crashes its \
                 worker process every time looks like this"
            ),
        };
        return dead(envelope, payload, attempt - 1, refusal);
    }
    let decoded = match handler.decode(payload, envelope.version) {
        Ok(job) => job,
        Err(message) => {
            let refusal = Refusal {
                kind: FailureKind::Payload,
                message,
            };
            return dead(envelope, payload, attempt, refusal);
        }
    };

    let span = tracing::info_span!(
        "job",
        job.id = %envelope.id,
        job.type = %envelope.job_type,
        queue = %queue.name,
        attempt,
    );
    let cancel = shared.cancel_jobs.child_token();
    let ctx = JobContext::new(JobContextParts {
        id: envelope.id,
        job_type: Arc::from(envelope.job_type.as_str()),
        queue: queue.name.clone(),
        attempt,
        max_attempts,
        enqueued_at: uuid_v7_millis(&envelope.id)
            .and_then(jobqueue_core::admin::millis_to_datetime)
            .unwrap_or_else(Utc::now),
        worker_id: shared.worker_id.clone(),
        cancel: cancel.clone(),
        span: span.clone(),
    });
    let timeout = match envelope.timeout_ms {
        Some(0) => None,
        Some(ms) => Some(Duration::from_millis(ms)),
        None => handler.timeout(),
    };

    let job_future = decoded.perform(&ctx);
    let chained = Next::new(&shared.middleware, &ctx, job_future).run();
    let guarded = AssertUnwindSafe(chained)
        .catch_unwind()
        .instrument(span.clone());
    let result = match timeout {
        Some(limit) => match tokio::time::timeout(limit, guarded).await {
            Ok(result) => result,
            Err(_) => {
                cancel.cancel();
                let message = format!("timed out after {} ms", limit.as_millis());
                span.in_scope(|| tracing::warn!("{message}"));
                return failed(
                    &ctx,
                    handler.as_ref(),
                    envelope,
                    payload,
                    FailureKind::Timeout,
                    &message,
                );
            }
        },
        None => guarded.await,
    };

    match result {
        Ok(Ok(())) => Outcome::Succeeded,
        Ok(Err(error)) => match error.action() {
            JobErrorAction::Snooze(delay) => {
                // Not a failure: the attempt is not counted.
                envelope.run_at = None;
                match encode_record(&envelope, payload) {
                    Ok(record) => Outcome::Retry {
                        delay,
                        record,
                        failed: false,
                    },
                    Err(err) => malformed(&leased.record, &err.to_string()),
                }
            }
            JobErrorAction::Permanent => {
                span.in_scope(|| tracing::warn!(error = %error, "job failed permanently"));
                let refusal = Refusal {
                    kind: FailureKind::Error,
                    message: error.message().to_owned(),
                };
                dead(envelope, payload, attempt, refusal)
            }
            JobErrorAction::Retry => {
                span.in_scope(|| tracing::warn!(error = %error, "job failed"));
                failed(
                    &ctx,
                    handler.as_ref(),
                    envelope,
                    payload,
                    FailureKind::Error,
                    error.message(),
                )
            }
        },
        Err(panic) => {
            let message = format!("panicked: {}", panic_message(panic.as_ref()));
            span.in_scope(|| tracing::error!("{message}"));
            failed(
                &ctx,
                handler.as_ref(),
                envelope,
                payload,
                FailureKind::Panic,
                &message,
            )
        }
    }
}

/// A failed attempt: retry with backoff while attempts remain, else dead.
fn failed(
    ctx: &JobContext,
    handler: &dyn crate::registry::Handler,
    mut envelope: Envelope,
    payload: &[u8],
    kind: FailureKind,
    message: &str,
) -> Outcome {
    let attempt = ctx.attempt();
    if attempt >= ctx.max_attempts() {
        let refusal = Refusal {
            kind,
            message: message.to_owned(),
        };
        return dead(envelope, payload, attempt, refusal);
    }
    let delay = match &envelope.backoff {
        Some(policy) => policy.delay(attempt),
        None => handler.retry_delay(attempt),
    };
    envelope.attempt = attempt;
    envelope.run_at = None;
    envelope.push_error(ErrorEntry::new(
        attempt,
        Utc::now().timestamp_millis(),
        kind,
        message,
    ));
    match encode_record(&envelope, payload) {
        Ok(record) => Outcome::Retry {
            delay,
            record,
            failed: true,
        },
        Err(err) => malformed(payload, &err.to_string()),
    }
}

/// The job will not run again: its final record, with the reason.
fn dead(mut envelope: Envelope, payload: &[u8], attempt: u32, refusal: Refusal) -> Outcome {
    envelope.attempt = attempt;
    envelope.run_at = None;
    envelope.push_error(ErrorEntry::new(
        attempt,
        Utc::now().timestamp_millis(),
        refusal.kind,
        &refusal.message,
    ));
    let dead_id = envelope.id.to_string();
    match encode_record(&envelope, payload) {
        Ok(record) => Outcome::Dead { dead_id, record },
        Err(err) => malformed(payload, &err.to_string()),
    }
}

/// A record that is not a valid job record: dead-letter it as found, inside
/// a fresh envelope that says why, so nothing is lost and an operator can
/// read it.
fn malformed(record: &[u8], reason: &str) -> Outcome {
    let id = record_id(record).unwrap_or_else(Uuid::now_v7);
    let mut envelope = Envelope::new("malformed");
    envelope.id = id;
    let message = format!(
        "not a valid job record ({}); the stored bytes are kept as the payload",
        truncate_at_char_boundary(reason, 512)
    );
    envelope.push_error(ErrorEntry::new(
        1,
        Utc::now().timestamp_millis(),
        FailureKind::Malformed,
        &message,
    ));
    envelope.attempt = 1;
    let mut out = Vec::with_capacity(record.len() + 160);
    // Envelope encoding of our own well-formed struct cannot fail; if it
    // ever did, keep the raw record alone rather than lose it.
    if let Ok(header) = serde_json::to_vec(&envelope) {
        out.extend_from_slice(&header);
        out.push(b'\n');
    }
    out.extend_from_slice(record);
    Outcome::Dead {
        dead_id: id.to_string(),
        record: out,
    }
}

/// The text of a panic payload.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}
