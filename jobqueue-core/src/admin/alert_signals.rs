//! What alert rules watch, read at a bounded cost: dead jobs since a time
//! (one `ZCOUNT` per queue), cron ticks no scheduler handled (one hash
//! per entry), and the error fingerprints of the newest dead jobs (a
//! page per queue).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::admin::filter::job_fingerprint;
use crate::admin::handle::Admin;
use crate::admin::jobs::{JobSet, millis_to_datetime};
use crate::cron::entry::{CronDefinition, CronEntry};
use crate::error::Error;

/// Most dead jobs per queue a `new_error` check reads.
pub const MAX_NEW_ERROR_SAMPLE: usize = 1000;

/// A cron tick that is past due by more than the grace and that no
/// scheduler has enqueued or skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissedCronTick {
    /// The entry's queue.
    pub queue: String,
    /// The entry's name.
    pub name: String,
    /// The oldest tick not handled.
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub tick: DateTime<Utc>,
}

/// The last error of a dead job, by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadError {
    /// The job type + normalised error fingerprint.
    pub fingerprint: String,
    /// The job type.
    pub job_type: String,
    /// The last error message.
    pub message: String,
    /// The job.
    pub job_id: Uuid,
}

impl Admin {
    /// Jobs of the dead sets of `queues` that died within the last
    /// `window` (Redis clock), in total: one round trip of one `ZCOUNT`
    /// per queue. Jobs retried or deleted since are not counted.
    pub async fn dead_within(&self, queues: &[String], window: Duration) -> Result<u64, Error> {
        let keys = queues
            .iter()
            .map(|queue| self.store.queue_keys(queue))
            .collect::<Result<Vec<_>, _>>()?;
        let now_ms = self.store.redis_time_ms().await?;
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self.store
            .dead_since(&keys, now_ms.saturating_sub(window_ms))
            .await
    }

    /// Cron entries (not paused) whose oldest unhandled tick is more than
    /// `grace` in the past: no scheduler ran them. Entries no scheduler
    /// has made a pass of yet are left out. One hash read per entry.
    pub async fn missed_cron_ticks(&self, grace: Duration) -> Result<Vec<MissedCronTick>, Error> {
        let store = self.store();
        let now_ms = store.redis_time_ms().await?;
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut missed = Vec::new();
        for queue_name in store.queue_names().await? {
            let queue = store.queue_keys(&queue_name)?;
            for name in store.cron_names(&queue).await? {
                let Some(state) = store.cron_state(&queue, &name).await? else {
                    continue;
                };
                let (Some(json), Some(through), None) = (
                    state.definition.as_deref(),
                    state.through.as_deref().and_then(|t| t.parse::<i64>().ok()),
                    state.paused_at,
                ) else {
                    continue;
                };
                let Ok(definition) = serde_json::from_str::<CronDefinition>(json) else {
                    continue;
                };
                let entry = CronEntry::from_definition(definition)?;
                if let Some(tick) = entry.schedule().next_after(through)
                    && tick.saturating_add(grace_ms) < now_ms
                    && let Some(tick) = millis_to_datetime(tick)
                {
                    missed.push(MissedCronTick {
                        queue: queue_name.clone(),
                        name,
                        tick,
                    });
                }
            }
        }
        Ok(missed)
    }

    /// The last errors of the newest `sample` (at most
    /// [`MAX_NEW_ERROR_SAMPLE`]) dead jobs of `queue`, one per
    /// fingerprint, newest first.
    pub async fn newest_dead_errors(
        &self,
        queue: &str,
        sample: usize,
    ) -> Result<Vec<DeadError>, Error> {
        let q = self.store.queue_keys(queue)?;
        let jobs = self
            .list_slots(&q, JobSet::Dead, 0, sample.clamp(1, MAX_NEW_ERROR_SAMPLE))
            .await?;
        let mut errors: Vec<DeadError> = Vec::new();
        for job in jobs.into_iter().flatten() {
            let fingerprint = job_fingerprint(&job);
            if errors.iter().any(|e| e.fingerprint == fingerprint) {
                continue;
            }
            errors.push(DeadError {
                fingerprint,
                job_type: job.job_type.clone().unwrap_or_else(|| "?".to_owned()),
                message: job
                    .errors
                    .last()
                    .map(|e| e.message.clone())
                    .or_else(|| job.decode_error.clone())
                    .unwrap_or_default(),
                job_id: job.id,
            });
        }
        Ok(errors)
    }
}
