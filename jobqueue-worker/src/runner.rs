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
use jobqueue_core::client::status::RunStatus;
use jobqueue_core::wire::record::{
    Envelope, EnvelopeHead, ErrorEntry, FailureKind, decode_head, decode_record, encode_record,
    record_id, truncate_at_char_boundary, uuid_v7_millis,
};
use jobqueue_core::{JobContext, JobContextParts, JobErrorAction};
use tracing::Instrument;
use uuid::Uuid;

use crate::middleware::Next;
use crate::runtime::Shared;

/// How long a job cancelled by an operator may take to stop before it is dropped.
const OPERATOR_CANCEL_GRACE: Duration = Duration::from_secs(1);

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
    /// Cancelled by an operator: `cancel.lua` already filed it, nothing
    /// is left to record.
    Cancelled,
    /// Not started before its expiry: `expire.lua` already filed it.
    Expired,
}

/// A leased job: the record exactly as fetched, and the queue it came from.
pub(crate) struct Leased {
    pub(crate) queue: usize,
    pub(crate) record: Vec<u8>,
    /// The job carries a flow key: its outcome releases the key. Only jobs
    /// fetched with `fetch_limited.lua` can (plain fetches never look).
    pub(crate) keyed: bool,
}

impl Leased {
    /// The id the scripts leased it under: bytes 8-43 of the record, as
    /// Lua's `string.sub(record, 8, 43)` reads them.
    pub(crate) fn leased_id(&self) -> Vec<u8> {
        leased_id(&self.record)
    }
}

/// The id a record is leased under: bytes 8-43, as Lua's
/// `string.sub(record, 8, 43)` reads them.
pub(crate) fn leased_id(record: &[u8]) -> Vec<u8> {
    let end = record.len().min(43);
    record.get(7..end).unwrap_or_default().to_vec()
}

/// A uniqueness lock a finished job held: key digest and job id.
pub(crate) type HeldLock = (String, String);

/// What recording a finished run involves besides its outcome.
#[derive(Debug, Default)]
pub(crate) struct AfterRun {
    /// The uniqueness lock of a unique job that succeeded (without
    /// dependents): `ack.lua` frees it, given as a key. The scripts that
    /// record every other ending find the lock from the job's record.
    pub(crate) release: Option<HeldLock>,
    /// The job was enqueued with dependents: its success or death is
    /// recorded for them (`ack_parents.lua`, `bury.lua` with parent keys).
    pub(crate) dependents: bool,
}

/// Runs a leased job to its outcome, and says what else its recording
/// involves.
pub(crate) async fn run(shared: &Arc<Shared>, leased: &Leased) -> (Outcome, AfterRun) {
    let (head, payload) = match decode_head(&leased.record) {
        Ok(decoded) => decoded,
        Err(err) => {
            return (
                malformed(&leased.record, &err.to_string()),
                AfterRun::default(),
            );
        }
    };
    // Borrowed from the record: cost nothing for ordinary jobs.
    let cron_entry = head.cron.clone();
    let unique = head.unique.clone();
    let dependents = head.dependents;
    let id = head.id;
    let status = RunStatus::new(shared.status_writer.clone(), id, head.track);
    let outcome = run_decoded(shared, leased, head, payload, status.clone()).await;
    if let Some(entry) = cron_entry {
        crate::cron_result::record(shared, leased.queue, &entry, &leased.record, &outcome);
    }
    crate::status_report::finish(status, &outcome);
    let release = match (&outcome, unique) {
        (Outcome::Succeeded, Some(digest)) if !dependents => {
            Some((digest.into_owned(), id.to_string()))
        }
        _ => None,
    };
    (
        outcome,
        AfterRun {
            release,
            dependents,
        },
    )
}

async fn run_decoded(
    shared: &Arc<Shared>,
    leased: &Leased,
    head: EnvelopeHead<'_>,
    payload: &[u8],
    status: RunStatus,
) -> Outcome {
    let queue = &shared.queues[leased.queue];
    let attempt = head.attempt.saturating_add(1);
    let Some(registered) = shared.registry.get(&head.job_type) else {
        let message = format!(
            "no handler for job type '{}' in worker {} (registered: {}); every worker \
             consuming queue '{}' must register every job type sent to it",
            head.job_type,
            shared.worker_id,
            shared.registry.names().join(", "),
            queue.name
        );
        return refuse(&leased.record, attempt, FailureKind::UnknownType, &message);
    };
    let handler = registered.handler.as_ref();
    let max_attempts = head.max_attempts.unwrap_or(handler.max_attempts()).max(1);
    if attempt > max_attempts {
        let message = format!(
            "attempt {attempt} exceeds the limit of {max_attempts} attempts; the runs after the \
             last recorded error were lost with their worker (lease expired) — a job that \
             crashes its worker process every time looks like this"
        );
        return refuse(
            &leased.record,
            attempt - 1,
            FailureKind::Exhausted,
            &message,
        );
    }
    let decoded = match handler.decode(payload, head.version) {
        Ok(job) => job,
        Err(message) => return refuse(&leased.record, attempt, FailureKind::Payload, &message),
    };

    let span = tracing::info_span!(
        "job",
        job.id = %head.id,
        job.type = %head.job_type,
        queue = %queue.name,
        attempt,
        traceparent = tracing::field::Empty,
    );
    if let Some(expires_at) = head.expires_at
        && Utc::now().timestamp_millis() >= expires_at
    {
        // This host's clock says so; Redis's clock decides.
        match shared
            .store
            .expire_leased(
                &queue.keys,
                &queue.active_key,
                &leased.leased_id(),
                expires_at,
                head.unique.as_deref(),
                head.dependents,
            )
            .await
        {
            Ok(true) => {
                tracing::info!(job.id = %head.id, queue = %queue.name, "job expired before it started; dropped");
                if head.dependents {
                    // An expired parent never succeeds: tell its dependents.
                    let entry = [format!("{}|failed", head.id)];
                    crate::completion::tell_children(&shared.store, &queue.keys, &entry).await;
                }
                return Outcome::Expired;
            }
            Ok(false) => {}
            Err(err) => {
                // Not run late, not lost: back through the retry set (no
                // attempt counted) to be looked at again.
                tracing::warn!(job.id = %head.id, error = %err, "could not drop an expired job; putting it back");
                return snoozed(&leased.record, Duration::ZERO);
            }
        }
    }
    let traceparent: Option<Arc<str>> = head.traceparent.as_deref().map(Arc::from);
    if let Some(traceparent) = &traceparent {
        span.record("traceparent", &**traceparent);
        crate::trace_link::continue_trace(&span, traceparent);
    }
    let cancel = shared.cancel_jobs.child_token();
    let Some(_running) = shared.running.start(head.id, cancel.clone()) else {
        tracing::info!(job.id = %head.id, "job was cancelled before it started");
        return Outcome::Cancelled;
    };
    let ctx = JobContext::new(JobContextParts {
        id: head.id,
        job_type: registered.name.clone(),
        queue: queue.name.clone(),
        attempt,
        max_attempts,
        enqueued_at_ms: uuid_v7_millis(&head.id).unwrap_or(0),
        worker_id: shared.worker_id.clone(),
        cancel: cancel.clone(),
        span: span.clone(),
        status: Some(status),
        traceparent,
    });
    let timeout = match head.timeout_ms {
        Some(0) => None,
        Some(ms) => Some(Duration::from_millis(ms)),
        None => handler.timeout(),
    };

    let job_future = decoded.perform(&ctx);
    let chained = Next::new(&shared.middleware, &ctx, job_future).run();
    let caught = AssertUnwindSafe(chained)
        .catch_unwind()
        .instrument(span.clone());
    // An operator's cancellation fires the token; a job that ignores it is
    // dropped after a grace period. (Shutdown's cancellation is handled by
    // the shutdown sequence, which hands the job back instead.)
    let cancelled_by_operator = || cancel.is_cancelled() && !shared.cancel_jobs.is_cancelled();
    let operator_gave_up = async {
        cancel.cancelled().await;
        if !cancelled_by_operator() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(OPERATOR_CANCEL_GRACE).await;
    };
    let guarded = async {
        tokio::select! {
            result = caught => Some(result),
            () = operator_gave_up => None,
        }
    };
    let blocked = |held: Duration| shared.job_blocked(&queue.name, &registered.name, held);
    let (result, ran) = crate::job_watch::run(guarded, timeout, blocked).await;
    let Some(result) = result else {
        cancel.cancel();
        let limit = timeout.unwrap_or_default();
        let message = format!("timed out after {} ms", limit.as_millis());
        span.in_scope(|| tracing::warn!("{message}"));
        return failed(
            &ctx,
            handler,
            &leased.record,
            FailureKind::Timeout,
            &message,
        );
    };
    if let Some(limit) = timeout
        && ran > limit
    {
        // It returned, so it finished: what it returned stands (a success
        // is acknowledged, not run again; an error is handled as that
        // error). The limit could not stop it while it held its thread.
        let exceeded_by = ran - limit;
        span.in_scope(|| {
            tracing::warn!(
                timeout_ms = limit.as_millis() as u64,
                exceeded_by_ms = exceeded_by.as_millis() as u64,
                "job exceeded its timeout by {} ms: it returned after the limit, which cannot \
                 stop a job while it blocks its thread; its result is recorded as returned \
                 (move blocking work to tokio::task::spawn_blocking)",
                exceeded_by.as_millis()
            )
        });
        crate::metrics::timeout_exceeded(&queue.name, &registered.name, exceeded_by);
    }
    let Some(result) = result else {
        span.in_scope(|| tracing::warn!("cancelled job ignored its token; dropped"));
        return Outcome::Cancelled;
    };
    if cancelled_by_operator() && !matches!(result, Ok(Ok(()))) {
        span.in_scope(|| tracing::info!("job cancelled"));
        return Outcome::Cancelled;
    }

    match result {
        Ok(Ok(())) => Outcome::Succeeded,
        Ok(Err(error)) => match error.action() {
            JobErrorAction::Snooze(delay) => snoozed(&leased.record, delay),
            JobErrorAction::Permanent => {
                span.in_scope(|| tracing::warn!(error = %error, "job failed permanently"));
                refuse(&leased.record, attempt, FailureKind::Error, error.message())
            }
            JobErrorAction::Retry => {
                span.in_scope(|| tracing::info!(error = %error, "job failed; it will be retried if attempts remain"));
                failed(
                    &ctx,
                    handler,
                    &leased.record,
                    FailureKind::Error,
                    error.message(),
                )
            }
        },
        Err(panic) => {
            let message = format!("panicked: {}", panic_message(panic.as_ref()));
            span.in_scope(|| tracing::error!("{message}"));
            failed(&ctx, handler, &leased.record, FailureKind::Panic, &message)
        }
    }
}

/// Not a failure: run again after `delay` without counting an attempt.
fn snoozed(record: &[u8], delay: Duration) -> Outcome {
    match decode_record(record) {
        Ok((mut envelope, payload)) => {
            envelope.run_at = None;
            match encode_record(&envelope, payload) {
                Ok(record) => Outcome::Retry {
                    delay,
                    record,
                    failed: false,
                },
                Err(err) => malformed(record, &err.to_string()),
            }
        }
        Err(err) => malformed(record, &err.to_string()),
    }
}

/// A failed attempt: retry with backoff while attempts remain, else dead.
fn failed(
    ctx: &JobContext,
    handler: &dyn crate::registry::Handler,
    record: &[u8],
    kind: FailureKind,
    message: &str,
) -> Outcome {
    let attempt = ctx.attempt();
    if attempt >= ctx.max_attempts() {
        ctx.span().in_scope(|| {
            tracing::warn!(error = message, "job is dead: no attempts left");
        });
        return refuse(record, attempt, kind, message);
    }
    let (mut envelope, payload) = match decode_record(record) {
        Ok(decoded) => decoded,
        Err(err) => return malformed(record, &err.to_string()),
    };
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
        Err(err) => malformed(record, &err.to_string()),
    }
}

/// The job will not run again: its final record, with the reason.
fn refuse(record: &[u8], attempt: u32, kind: FailureKind, message: &str) -> Outcome {
    let (mut envelope, payload) = match decode_record(record) {
        Ok(decoded) => decoded,
        Err(err) => return malformed(record, &err.to_string()),
    };
    envelope.attempt = attempt;
    envelope.run_at = None;
    envelope.push_error(ErrorEntry::new(
        attempt,
        Utc::now().timestamp_millis(),
        kind,
        message,
    ));
    let dead_id = envelope.id.to_string();
    match encode_record(&envelope, payload) {
        Ok(record) => Outcome::Dead { dead_id, record },
        Err(err) => malformed(record, &err.to_string()),
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

/// The message of the latest error in a record's history.
pub(crate) fn last_error(record: &[u8]) -> Option<String> {
    let (envelope, _) = decode_record(record).ok()?;
    envelope.errors.last().map(|entry| match entry.kind {
        FailureKind::Error => entry.message.clone(),
        kind => format!("{kind:?}: {}", entry.message),
    })
}
