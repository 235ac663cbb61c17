//! The operator side of cron: list entries with their next run, last run
//! and its result; pause, resume, run now, remove. Methods on
//! [`crate::Admin`], which the dashboard, JSON API and CLI build on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::Admin;
use crate::admin::jobs::millis_to_datetime;
use crate::cron::entry::{CronDefinition, CronEntry, Misfire, validate_cron_name};
use crate::cron::run_result::CronRunResult;
use crate::error::Error;
use crate::store::CronState;
use crate::store::keys::QueueKeys;

/// A cron run's result as JSON shows it: its times in the one format.
#[derive(Serialize)]
struct CronRunResultView<'a> {
    job_id: Uuid,
    #[serde(serialize_with = "crate::json_time::optional_millis")]
    tick_at: Option<i64>,
    #[serde(serialize_with = "crate::json_time::millis")]
    finished_at: i64,
    outcome: crate::cron::CronOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

fn last_result_json<S: serde::Serializer>(
    result: &Option<CronRunResult>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let view = result.as_ref().map(|r| CronRunResultView {
        job_id: r.job_id,
        tick_at: r.tick_ms,
        finished_at: r.finished_at_ms,
        outcome: r.outcome,
        error: r.error.as_deref(),
    });
    serde::Serialize::serialize(&view, serializer)
}

/// One cron entry as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CronEntryInfo {
    /// The entry's name.
    pub name: String,
    /// The queue its runs go to.
    pub queue: String,
    /// The cron expression.
    pub schedule: String,
    /// The IANA time zone the expression is read in.
    pub time_zone: String,
    /// The misfire policy.
    pub misfire: Misfire,
    /// The job type it enqueues.
    pub job_type: String,
    /// The payload JSON of every run.
    pub payload: String,
    /// When it was paused, if it is.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub paused_at: Option<DateTime<Utc>>,
    /// The next tick (none while paused).
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub next_run: Option<DateTime<Utc>>,
    /// Tick of the latest run enqueued (scheduled or ready).
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub last_enqueued_tick: Option<DateTime<Utc>>,
    /// Job id of the latest run enqueued.
    pub last_enqueued_id: Option<Uuid>,
    /// The latest finished run and how it ended (in JSON, its times are
    /// `tick_at` and `finished_at`, in the one format of `json_time`).
    #[serde(serialize_with = "last_result_json")]
    pub last_result: Option<CronRunResult>,
    /// Missed ticks skipped by the misfire policy, in total.
    pub skipped: u64,
}

impl CronEntryInfo {
    fn from_state(
        queue: &str,
        name: &str,
        state: CronState,
        now_ms: i64,
    ) -> Result<Option<Self>, Error> {
        let Some(json) = state.definition.as_deref() else {
            return Ok(None);
        };
        let definition: CronDefinition = serde_json::from_str(json).map_err(|e| Error::Decode {
            op: "cron_entries",
            message: format!("cron entry '{name}' on queue '{queue}' has a bad definition: {e}"),
        })?;
        let entry = CronEntry::from_definition(definition)?;
        let next_run = if state.paused_at.is_some() {
            None
        } else {
            entry
                .schedule
                .next_after(now_ms)
                .and_then(millis_to_datetime)
        };
        let definition = entry.definition;
        Ok(Some(Self {
            name: definition.name,
            queue: definition.queue,
            schedule: definition.schedule,
            time_zone: definition.time_zone,
            misfire: definition.misfire,
            job_type: definition.envelope.job_type,
            payload: definition.payload,
            paused_at: state.paused_at.and_then(millis_to_datetime),
            next_run,
            last_enqueued_tick: state.last_tick.and_then(millis_to_datetime),
            last_enqueued_id: state.last_id.as_deref().and_then(|id| id.parse().ok()),
            last_result: state
                .result
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            skipped: state.skipped,
        }))
    }
}

impl Admin {
    /// Every cron entry of every known queue, by queue then name.
    pub async fn cron_entries(&self) -> Result<Vec<CronEntryInfo>, Error> {
        let store = self.store();
        let now_ms = store.redis_time_ms().await?;
        let mut entries = Vec::new();
        for queue_name in store.queue_names().await? {
            let queue = store.queue_keys(&queue_name)?;
            for name in store.cron_names(&queue).await? {
                if let Some(state) = store.cron_state(&queue, &name).await?
                    && let Some(info) =
                        CronEntryInfo::from_state(&queue_name, &name, state, now_ms)?
                {
                    entries.push(info);
                }
            }
        }
        Ok(entries)
    }

    /// The cron entries of `queue` (not paused) whose next tick after
    /// `now_ms` falls at or before `until_ms`: one hash read per entry.
    /// An entry whose stored definition cannot be read is left out (and
    /// logged): the cron page reports it.
    pub async fn cron_ticks_due(
        &self,
        queue: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<u64, Error> {
        let store = self.store();
        let keys = store.queue_keys(queue)?;
        let mut due = 0;
        for name in store.cron_names(&keys).await? {
            let Some(state) = store.cron_state(&keys, &name).await? else {
                continue;
            };
            match CronEntryInfo::from_state(queue, &name, state, now_ms) {
                Ok(Some(info))
                    if info
                        .next_run
                        .is_some_and(|next| next.timestamp_millis() <= until_ms) =>
                {
                    due += 1;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(queue, cron = %name, %error, "cron entry left out of scaling");
                }
            }
        }
        Ok(due)
    }

    /// One cron entry; `None` when there is no such entry.
    pub async fn cron_entry(
        &self,
        queue: &str,
        name: &str,
    ) -> Result<Option<CronEntryInfo>, Error> {
        let keys = self.cron_keys(queue, name)?;
        let store = self.store();
        let now_ms = store.redis_time_ms().await?;
        match store.cron_state(&keys, name).await? {
            Some(state) => CronEntryInfo::from_state(queue, name, state, now_ms),
            None => Ok(None),
        }
    }

    /// Pauses an entry: no tick more than [`crate::cron::LOOKAHEAD_MS`] away is
    /// enqueued until it is resumed, in every process.
    pub async fn pause_cron(&self, queue: &str, name: &str) -> Result<(), Error> {
        let keys = self.cron_keys(queue, name)?;
        let now_ms = self.store().redis_time_ms().await?;
        let found = self
            .store()
            .cron_set(&keys, name, "paused", &now_ms.to_string())
            .await?;
        not_found_unless(found, "pause_cron", queue, name)
    }

    /// Resumes a paused entry. Ticks that fell while it was paused are not
    /// run; the next tick is enqueued at once (by this call).
    pub async fn resume_cron(&self, queue: &str, name: &str) -> Result<(), Error> {
        let keys = self.cron_keys(queue, name)?;
        let resumed = self.store().cron_resume(&keys, name).await?;
        not_found_unless(resumed >= 0, "resume_cron", queue, name)?;
        let entry = self.stored_entry(&keys, queue, name).await?;
        entry.run_pass(self.store()).await.map(|_| ())
    }

    /// Enqueues an extra run of an entry now (also when paused); returns
    /// its job id. The schedule is not changed.
    pub async fn run_cron_now(&self, queue: &str, name: &str) -> Result<Uuid, Error> {
        let keys = self.cron_keys(queue, name)?;
        let entry = self.stored_entry(&keys, queue, name).await?;
        let (id, record) = entry.fresh_record()?;
        let found = self.store().cron_run_now(&keys, name, &record).await?;
        not_found_unless(found, "run_cron_now", queue, name)?;
        Ok(id)
    }

    /// Forgets an entry that is no longer registered in code (an entry
    /// still registered on a running worker comes back at its next pass).
    /// Runs already enqueued stay. Returns whether it existed.
    pub async fn remove_cron(&self, queue: &str, name: &str) -> Result<bool, Error> {
        let keys = self.cron_keys(queue, name)?;
        self.store().cron_remove(&keys, name).await
    }

    fn cron_keys(&self, queue: &str, name: &str) -> Result<QueueKeys, Error> {
        validate_cron_name(name)?;
        self.store().queue_keys(queue)
    }

    async fn stored_entry(
        &self,
        keys: &QueueKeys,
        queue: &str,
        name: &str,
    ) -> Result<CronEntry, Error> {
        let state = self.store().cron_state(keys, name).await?;
        let Some(json) = state.and_then(|s| s.definition) else {
            return Err(not_found("cron", queue, name));
        };
        let definition: CronDefinition =
            serde_json::from_str(&json).map_err(|e| Error::Decode {
                op: "cron",
                message: format!(
                    "cron entry '{name}' on queue '{queue}' has a bad definition: {e}"
                ),
            })?;
        CronEntry::from_definition(definition)
    }
}

fn not_found(op: &'static str, queue: &str, name: &str) -> Error {
    Error::CronEntryNotFound {
        op,
        queue: queue.to_owned(),
        name: name.to_owned(),
    }
}

fn not_found_unless(found: bool, op: &'static str, queue: &str, name: &str) -> Result<(), Error> {
    if found {
        Ok(())
    } else {
        Err(not_found(op, queue, name))
    }
}
