//! How a finished run is recorded: [`Finished`] carries it to the outcome
//! writer (`loops/outcome_writer.rs`), [`add_to_batch`] files it under the
//! script call that records its ending, and [`tell_children`] lets the
//! dependents of a parent that just ended know; [`log_write`] and
//! [`write_logs`] store the attempt's log (per-job logs) right after its
//! ending. The inline worker records its runs through the same functions.

use jobqueue_core::store::commands::job_logs::JobLogWrite;
use jobqueue_core::store::keys::QueueKeys;
use jobqueue_core::store::{BuryEntry, CompletionBatch, RetryEntry, Store};

use uuid::Uuid;

use crate::run::outcome::{AfterRun, Outcome};
use crate::state::shared::Shared;

/// One finished run, on its way to be recorded.
pub(crate) struct Finished {
    pub(crate) queue: usize,
    pub(crate) leased_id: Vec<u8>,
    pub(crate) outcome: Outcome,
    /// The uniqueness lock to release, and whether dependents are told.
    pub(crate) after: AfterRun,
    /// The job carries a flow key (see `Leased::keyed`).
    pub(crate) keyed: bool,
}

/// Adds one finished run (and the uniqueness lock `ack.lua` frees with
/// it, if any) to the batch of its queue; a keyed run makes the batch release flow keys.
/// A job with dependents goes to the calls that also record its end for
/// them.
pub(crate) fn add_to_batch(
    target: &mut CompletionBatch,
    leased_id: Vec<u8>,
    outcome: Outcome,
    after: AfterRun,
    keyed: bool,
) {
    target.keyed |= keyed;
    if let Some(lock) = after.release {
        target.unique_releases.push(lock);
    }
    if let Some(batch_id) = after.batch {
        add_batch_job(target, batch_id, leased_id, outcome);
        return;
    }
    match outcome {
        Outcome::Succeeded if after.dependents => {
            if let Some(result) = after.result {
                target.parent_results.push((leased_id.clone(), result));
            }
            target.parent_acks.push(leased_id);
        }
        Outcome::Succeeded if after.memo => target.step_acks.push(leased_id),
        Outcome::Dead { dead_id, record } if after.dependents => {
            target.parent_buries.push(BuryEntry {
                leased_id,
                dead_id,
                record,
            });
        }
        Outcome::Succeeded => target.acks.push(leased_id),
        Outcome::Retry {
            delay,
            record,
            failed,
        } => target.retries.push(RetryEntry {
            id: leased_id,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            record,
            failed,
        }),
        Outcome::Dead { dead_id, record } => target.buries.push(BuryEntry {
            leased_id,
            dead_id,
            record,
        }),
        // Recorded by their own transitions (cancel.lua, expire.lua).
        // Parked: signal_wait.lua already filed it.
        Outcome::Cancelled | Outcome::Expired | Outcome::Parked { .. } => {}
    }
}

/// Files the end of a job of a batch under the batch-aware calls, which
/// count it in its batch in the same step. Batch jobs carry no dependents
/// (the client refuses them), so that routing never applies here.
fn add_batch_job(
    target: &mut CompletionBatch,
    batch_id: Uuid,
    leased_id: Vec<u8>,
    outcome: Outcome,
) {
    let endings = &mut target.batch_jobs;
    match outcome {
        Outcome::Succeeded => endings.acks.push((batch_id, leased_id)),
        Outcome::Retry {
            delay,
            record,
            failed,
        } => endings.retries.push((
            batch_id,
            RetryEntry {
                id: leased_id,
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                record,
                failed,
            },
        )),
        Outcome::Dead { dead_id, record } => endings.buries.push((
            batch_id,
            BuryEntry {
                leased_id,
                dead_id,
                record,
            },
        )),
        // Parked: signal_wait.lua already filed it (the job stays pending).
        Outcome::Cancelled | Outcome::Expired | Outcome::Parked { .. } => {}
    }
}

/// Applies the release outbox entries a completion filed: tells the
/// children of the parents that just ended. If this fails (or the process
/// dies first), any worker's sweeper (the reaper's pass) applies them later.
pub(crate) async fn tell_children(store: &Store, queue: &QueueKeys, releases: &[String]) {
    if releases.is_empty() {
        return;
    }
    if let Err(err) = store.apply_releases(queue, releases).await {
        tracing::warn!(
            queue = %queue.name(),
            parents = releases.len(),
            error = %err,
            "could not tell dependents that their parents ended; the sweeper will"
        );
    }
}

/// What storing a finished attempt's log takes (per-job logs on; `None`
/// when the run captured nothing):
/// - a success deletes the job's log key, as its record is gone — unless
///   no earlier run can have stored one (a first attempt without an error
///   history and without a memo: the common case pays nothing);
/// - a snooze of a job without a memo keeps nothing: the next run of the
///   same attempt would replace it, and a success at attempt 1 does not
///   look for it;
/// - every other ending keeps the record (retry, dead, cancelled, expired,
///   parked, a durable sleep) and stores the lines under the attempt.
pub(crate) fn log_write(
    leased_id: &[u8],
    outcome: &Outcome,
    after: &mut AfterRun,
) -> Option<JobLogWrite> {
    let log = after.log.take()?;
    let job_id = String::from_utf8_lossy(leased_id).into_owned();
    match outcome {
        // A durable job (memo) may have stored a log before a sleep or a
        // park at the same attempt.
        Outcome::Succeeded => {
            (log.earlier_runs || after.memo).then_some(JobLogWrite::Drop { job_id })
        }
        Outcome::Retry { failed: false, .. } if !after.memo => None,
        _ => match serde_json::to_string(&log.lines) {
            Ok(lines_json) => Some(JobLogWrite::Attempt {
                job_id,
                attempt: log.attempt,
                lines_json,
            }),
            Err(err) => {
                tracing::warn!(job.id = %job_id, error = %err, "could not encode a job's log; not stored");
                None
            }
        },
    }
}

/// Whether a log write goes to Redis *before* its job's ending is recorded.
///
/// A kept attempt's log does: whatever removes the record later — this
/// very ending's dead-set trim (more jobs buried at once than the cap),
/// another worker's trim, a delete — finds the log and removes it with the
/// record (`drop_memos`). Written after, a record removed in between left
/// its log behind until the TTL (180 days by default): with a small dead
/// cap, nearly every dead job's log leaked (`integration/tests/caps_memory.rs`).
/// A drop goes after the success it follows: the success removes the
/// record, and a success that is not recorded (the lease lapsed) keeps the
/// earlier logs for the run that follows.
pub(crate) fn goes_before_ending(write: &JobLogWrite) -> bool {
    matches!(write, JobLogWrite::Attempt { .. })
}

/// Stores attempt logs of one queue in one round trip (kept logs before
/// their endings are recorded, drops after: [`goes_before_ending`]). Not
/// retried: a failure loses these logs (said in a warning), never the
/// outcomes.
pub(crate) async fn write_logs(shared: &Shared, queue: usize, writes: &[JobLogWrite]) {
    let Some(settings) = &shared.job_logs else {
        return;
    };
    let queue = &shared.queues[queue];
    if let Err(err) = shared
        .store
        .write_job_logs(&queue.keys, writes, settings.ttl)
        .await
    {
        tracing::warn!(
            queue = %queue.name,
            logs = writes.len(),
            error = %err,
            "could not store the logs of finished attempts; they are lost"
        );
    }
}
