//! Running one leased job and deciding what happens to it next.
//!
//! A run goes through admission (a handler for the job type, an attempt
//! within the limit, a payload that decodes), the expiry check, the run
//! itself (middleware, panics caught, operator cancellation, the time
//! limit of `job_watch.rs`), and the verdict that turns what it came to
//! into an [`Outcome`]; the outcome's records are built in `outcome.rs`.
//!
//! Nothing here can take the worker down: a record that does not decode,
//! an unknown job type, a panic or a timeout all become an [`Outcome`]
//! with a readable reason, and the job goes to the retry or dead set.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use jobqueue_core::client::status::RunStatus;
use jobqueue_core::wire::record::{EnvelopeHead, FailureKind, decode_head, uuid_v7_millis};
use jobqueue_core::{JobContext, JobContextParts, JobError, JobErrorAction};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use crate::job_logs::{CapturedAttempt, finish_capture, start_capture};
use crate::middleware::Next;
use crate::run::leased::Leased;
use crate::run::outcome::{AfterRun, Outcome, failed, malformed, refuse, snoozed};
use crate::state::registry::{DecodedJob, Handler, Registered};
use crate::state::running_jobs::RunningGuard;
use crate::state::shared::Shared;

/// How long a job cancelled by an operator may take to stop before it is dropped.
const OPERATOR_CANCEL_GRACE: Duration = Duration::from_secs(1);

/// What a run that ended by itself came to: the job's result, or the
/// payload of its panic.
type Returned = Result<Result<(), JobError>, Box<dyn Any + Send>>;

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
    let batch = head.batch;
    let id = head.id;
    let status = RunStatus::new(
        shared.status_writer.clone(),
        shared.queues[leased.queue].keys.clone(),
        id,
        head.track,
    );
    let (outcome, log) = run_decoded(shared, leased, head, payload, status.clone()).await;
    if let Some(entry) = cron_entry {
        crate::run::cron_result::record(shared, leased.queue, &entry, &leased.record, &outcome);
    }
    let memo = status.used_memo();
    let outcome = match outcome {
        Outcome::Retry {
            failed: false,
            delay,
            ..
        } if status.parked() => Outcome::Parked { delay },
        other => other,
    };
    // Taken before the status write, which consumes it: only jobs with
    // dependents hand their result to the script that records their end.
    let result = match outcome {
        Outcome::Succeeded if dependents => status.result_json(),
        _ => None,
    };
    crate::run::status_report::finish(status, &outcome);
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
            result,
            batch,
            memo,
            log,
        },
    )
}

/// Runs a job whose record head decoded: admission, the expiry check, the
/// run under its guards, and the verdict on what it came to; with the
/// attempt's log when per-job logs are on and the run started.
async fn run_decoded(
    shared: &Arc<Shared>,
    leased: &Leased,
    head: EnvelopeHead<'_>,
    payload: &[u8],
    status: RunStatus,
) -> (Outcome, Option<CapturedAttempt>) {
    let queue = &shared.queues[leased.queue];
    let admitted = match admit(shared, leased, &head, payload) {
        Ok(admitted) => admitted,
        Err(outcome) => return (outcome, None),
    };
    let span = tracing::info_span!(
        "job",
        job.id = %head.id,
        job.type = %head.job_type,
        queue = %queue.name,
        attempt = admitted.attempt,
        traceparent = tracing::field::Empty,
    );
    if let Some(expires_at) = head.expires_at
        && Utc::now().timestamp_millis() >= expires_at
        && let Some(outcome) = drop_expired(shared, leased, &head, expires_at).await
    {
        return (outcome, None);
    }
    if let Err(err) = status.started().await {
        tracing::debug!(error = %err, "could not mark the job running in its status");
    }
    let Some((ctx, _running)) = start_run(shared, &queue.name, &head, &admitted, span, status)
    else {
        tracing::info!(job.id = %head.id, "job was cancelled before it started");
        return (Outcome::Cancelled, None);
    };
    // Per-job logs: only when this worker keeps them (off by default, then
    // not even the span's subscriber is asked).
    let capturing = shared
        .job_logs
        .as_ref()
        .is_some_and(|logs| start_capture(ctx.span(), logs));
    let handler = admitted.registered.handler.as_ref();
    let timeout = match head.timeout_ms {
        Some(0) => None,
        Some(ms) => Some(Duration::from_millis(ms)),
        None => handler.timeout(),
    };

    let cancel = ctx.cancellation_token();
    let job_future = admitted.job.perform(&ctx, &shared.state);
    let chained = Next::new(&shared.middleware, &ctx, job_future).run();
    let caught = AssertUnwindSafe(chained)
        .catch_unwind()
        .instrument(ctx.span().clone());
    // An operator's cancellation fires the token; a job that ignores it is
    // dropped after a grace period. (Shutdown's cancellation is handled by
    // the shutdown sequence, which hands the job back instead.)
    let operator_gave_up = async {
        cancel.cancelled().await;
        if !cancelled_by_operator(shared, cancel) {
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
    let blocked = |held: Duration| shared.job_blocked(&queue.name, &admitted.registered.name, held);
    let (result, ran) = crate::run::job_watch::run(guarded, timeout, blocked).await;
    let attempt = RunAttempt {
        ctx: &ctx,
        handler,
        record: &leased.record,
    };
    let outcome = verdict(shared, &attempt, timeout, result, ran);
    let log = capturing.then(|| CapturedAttempt {
        attempt: admitted.attempt,
        lines: finish_capture(ctx.span()),
        earlier_runs: admitted.attempt > 1 || has_error_history(&leased.record),
    });
    (outcome, log)
}

/// The record's envelope (its first line) has an error history: an
/// earlier run failed (its attempt count may have been reset since, by an
/// operator's retry of a dead job). A false positive only costs a `DEL`.
fn has_error_history(record: &[u8]) -> bool {
    const MEMBER: &[u8] = b",\"errors\":";
    let envelope = record.split(|&b| b == b'\n').next().unwrap_or_default();
    envelope.windows(MEMBER.len()).any(|w| w == MEMBER)
}

/// A job that passed admission: its registered type, the decoded job, and
/// this run's attempt number out of its limit.
struct Admitted<'a> {
    registered: &'a Registered,
    job: Box<dyn DecodedJob>,
    attempt: u32,
    max_attempts: u32,
}

/// Finds the job type's handler, checks the attempt limit and decodes the
/// payload. A job that fails any of these cannot run, now or later: it is
/// dead with the reason (unknown type, attempts used up by runs lost with
/// their worker, a payload that does not decode).
fn admit<'a>(
    shared: &'a Shared,
    leased: &Leased,
    head: &EnvelopeHead<'_>,
    payload: &[u8],
) -> Result<Admitted<'a>, Outcome> {
    let attempt = head.attempt.saturating_add(1);
    let Some(registered) = shared.registry.get(&head.job_type) else {
        let message = format!(
            "no handler for job type '{}' in worker {} (registered: {}); every worker \
             consuming queue '{}' must register every job type sent to it",
            head.job_type,
            shared.worker_id,
            shared.registry.names().join(", "),
            shared.queues[leased.queue].name
        );
        return Err(refuse(
            &leased.record,
            attempt,
            FailureKind::UnknownType,
            &message,
        ));
    };
    let handler = registered.handler.as_ref();
    let max_attempts = head.max_attempts.unwrap_or(handler.max_attempts()).max(1);
    if attempt > max_attempts {
        let message = format!(
            "attempt {attempt} exceeds the limit of {max_attempts} attempts; the runs after the \
             last recorded error were lost with their worker (lease expired) — a job that \
             crashes its worker process every time looks like this"
        );
        return Err(refuse(
            &leased.record,
            attempt - 1,
            FailureKind::Exhausted,
            &message,
        ));
    }
    // An encoded payload this worker cannot read (no key, a tampered
    // ciphertext, a build without the feature) is dead with the reason:
    // it must never run as something else.
    let payload = match shared
        .payload_codec
        .decode(&head.job_type, head.enc.as_deref(), payload)
    {
        Ok(payload) => payload,
        Err(err) => {
            return Err(refuse(
                &leased.record,
                attempt,
                FailureKind::Payload,
                &format!(
                    "payload of job type '{}' cannot be read: {err}",
                    head.job_type
                ),
            ));
        }
    };
    match handler.decode(&payload, head.version) {
        Ok(job) => Ok(Admitted {
            registered,
            job,
            attempt,
            max_attempts,
        }),
        Err(message) => Err(refuse(
            &leased.record,
            attempt,
            FailureKind::Payload,
            &message,
        )),
    }
}

/// This host's clock says the job expired before it started: asks Redis,
/// whose clock decides, to file it as expired (`expire.lua`). `None` when
/// Redis says it has not expired: it runs.
async fn drop_expired(
    shared: &Shared,
    leased: &Leased,
    head: &EnvelopeHead<'_>,
    expires_at: i64,
) -> Option<Outcome> {
    let queue = &shared.queues[leased.queue];
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
            shared.slots_freed(&shared.store, leased.queue).await;
            if head.dependents {
                // An expired parent never succeeds: tell its dependents.
                let entry = [format!("{}|failed", head.id)];
                crate::run::recording::tell_children(&shared.store, &queue.keys, &entry).await;
            }
            Some(Outcome::Expired)
        }
        Ok(false) => None,
        Err(err) => {
            // Not run late, not lost: back through the retry set (no
            // attempt counted) to be looked at again.
            tracing::warn!(job.id = %head.id, error = %err, "could not drop an expired job; putting it back");
            Some(snoozed(&leased.record, Duration::ZERO))
        }
    }
}

/// Starts the run: links its span to the producer's trace, registers it
/// for operator cancellation and builds its context. `None` when an
/// operator cancelled the job before it started: it must not run.
fn start_run<'s>(
    shared: &'s Shared,
    queue: &Arc<str>,
    head: &EnvelopeHead<'_>,
    admitted: &Admitted<'_>,
    span: Span,
    status: RunStatus,
) -> Option<(JobContext, RunningGuard<'s>)> {
    let traceparent: Option<Arc<str>> = head.traceparent.as_deref().map(Arc::from);
    if let Some(traceparent) = &traceparent {
        span.record("traceparent", &**traceparent);
        crate::run::trace_link::continue_trace(&span, traceparent);
    }
    let cancel = shared.cancel_jobs.child_token();
    let running = shared.running.start(head.id, cancel.clone())?;
    let ctx = JobContext::new(JobContextParts {
        id: head.id,
        job_type: admitted.registered.name.clone(),
        queue: queue.clone(),
        attempt: admitted.attempt,
        max_attempts: admitted.max_attempts,
        enqueued_at_ms: uuid_v7_millis(&head.id).unwrap_or(0),
        worker_id: shared.worker_id.clone(),
        cancel,
        span,
        status: Some(status),
        traceparent,
        parents: head.after.clone(),
        batch: head.batch,
    });
    Some((ctx, running))
}

/// True when the run's token fired for an operator's cancellation, not
/// for the shutdown's.
fn cancelled_by_operator(shared: &Shared, cancel: &CancellationToken) -> bool {
    cancel.is_cancelled() && !shared.cancel_jobs.is_cancelled()
}

/// One run of a job, as a failed attempt needs it: its context (attempt,
/// limit, span), its handler (backoff) and the record as leased.
struct RunAttempt<'a> {
    ctx: &'a JobContext,
    handler: &'a dyn Handler,
    record: &'a [u8],
}

impl RunAttempt<'_> {
    /// This attempt failed: retry with backoff, or dead when none is left.
    fn failed(&self, kind: FailureKind, message: &str) -> Outcome {
        failed(self.ctx, self.handler, self.record, kind, message)
    }
}

/// Turns what the run came to into its [`Outcome`]. `result` is `None`
/// when the time limit fired, `Some(None)` when a job an operator
/// cancelled ignored its token and was dropped; `ran` is how long it ran.
fn verdict(
    shared: &Shared,
    attempt: &RunAttempt<'_>,
    timeout: Option<Duration>,
    result: Option<Option<Returned>>,
    ran: Duration,
) -> Outcome {
    let ctx = attempt.ctx;
    let span = ctx.span();
    let Some(result) = result else {
        ctx.cancellation_token().cancel();
        let limit = timeout.unwrap_or_default();
        let message = format!("timed out after {} ms", limit.as_millis());
        span.in_scope(|| tracing::warn!("{message}"));
        return attempt.failed(FailureKind::Timeout, &message);
    };
    if let Some(limit) = timeout
        && ran > limit
    {
        report_overrun(ctx, limit, ran - limit);
    }
    let Some(result) = result else {
        span.in_scope(|| tracing::warn!("cancelled job ignored its token; dropped"));
        return Outcome::Cancelled;
    };
    if cancelled_by_operator(shared, ctx.cancellation_token()) && !matches!(result, Ok(Ok(()))) {
        span.in_scope(|| tracing::info!("job cancelled"));
        return Outcome::Cancelled;
    }

    match result {
        Ok(Ok(())) => Outcome::Succeeded,
        Ok(Err(error)) => match error.action() {
            JobErrorAction::Snooze(delay) => snoozed(attempt.record, delay),
            JobErrorAction::Permanent => {
                span.in_scope(|| tracing::warn!(error = %error, "job failed permanently"));
                refuse(
                    attempt.record,
                    ctx.attempt(),
                    FailureKind::Error,
                    error.message(),
                )
            }
            JobErrorAction::Retry => {
                // On the last attempt `failed` says the job is dead instead.
                if !ctx.is_last_attempt() {
                    span.in_scope(
                        || tracing::info!(error = %error, "job failed; it will be retried"),
                    );
                }
                attempt.failed(FailureKind::Error, error.message())
            }
        },
        Err(panic) => {
            let message = format!("panicked: {}", panic_message(panic.as_ref()));
            span.in_scope(|| tracing::error!("{message}"));
            attempt.failed(FailureKind::Panic, &message)
        }
    }
}

/// The job returned `exceeded_by` after its time `limit`.
///
/// It returned, so it finished: what it returned stands (a success is
/// acknowledged, not run again; an error is handled as that error). The
/// limit could not stop it while it held its thread.
fn report_overrun(ctx: &JobContext, limit: Duration, exceeded_by: Duration) {
    ctx.span().in_scope(|| {
        tracing::warn!(
            timeout_ms = limit.as_millis() as u64,
            exceeded_by_ms = exceeded_by.as_millis() as u64,
            "job exceeded its timeout by {} ms: it returned after the limit, which cannot \
             stop a job while it blocks its thread; its result is recorded as returned \
             (move blocking work to tokio::task::spawn_blocking)",
            exceeded_by.as_millis()
        )
    });
    crate::metrics::timeout_exceeded(ctx.queue(), ctx.job_type(), exceeded_by);
}

/// The text of a panic payload.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}
