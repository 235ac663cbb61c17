//! [`Outcome`]: what happens to a job after a run, and the records each
//! ending leaves — the retry record with its backoff, the dead record
//! with the reason, or a damaged record kept inside a fresh envelope.

use std::time::Duration;

use chrono::Utc;
use jobqueue_core::JobContext;
use jobqueue_core::wire::record::{
    Envelope, ErrorEntry, FailureKind, decode_record, encode_record, record_id,
    truncate_at_char_boundary,
};
use uuid::Uuid;

use crate::state::registry::Handler;

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
    /// Parked waiting for a signal (`JobContext::wait_for_signal`):
    /// `signal_wait.lua` already filed it in the retry set, due after
    /// `delay` at the latest; nothing is left to record.
    Parked { delay: Duration },
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
    /// The result (JSON) a job with dependents left when it succeeded:
    /// `ack_parents.lua` keeps it for them. `None` for every other run.
    pub(crate) result: Option<String>,
    /// The batch the job belongs to: its end is counted there
    /// (`ack_batch.lua`, `retry.lua` with the batch key, `bury_batch.lua`).
    pub(crate) batch: Option<Uuid>,
    /// The run used its memo of steps, sleeps or signals
    /// (`jobqueue_core::job::steps`): its success is acknowledged with
    /// `ack_steps.lua`, which deletes the memo with the job.
    pub(crate) memo: bool,
    /// The attempt's log, when per-job logs are on and the capture ran
    /// (`job_logs`): written with its ending by the outcome writer.
    pub(crate) log: Option<crate::job_logs::CapturedAttempt>,
}

/// Not a failure: run again after `delay` without counting an attempt.
pub(crate) fn snoozed(record: &[u8], delay: Duration) -> Outcome {
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
pub(crate) fn failed(
    ctx: &JobContext,
    handler: &dyn Handler,
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
pub(crate) fn refuse(record: &[u8], attempt: u32, kind: FailureKind, message: &str) -> Outcome {
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
pub(crate) fn malformed(record: &[u8], reason: &str) -> Outcome {
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

/// The message of the latest error in a record's history.
pub(crate) fn last_error(record: &[u8]) -> Option<String> {
    let (envelope, _) = decode_record(record).ok()?;
    envelope.errors.last().map(|entry| match entry.kind {
        FailureKind::Error => entry.message.clone(),
        kind => format!("{kind:?}: {}", entry.message),
    })
}
