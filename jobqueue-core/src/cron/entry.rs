//! [`CronEntry`]: a job enqueued on a cron schedule, and its stored definition.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schedule::CronSchedule;
use crate::error::Error;
use crate::job::stateful::StatefulJob;
use crate::job::validate_job_type;
use crate::store::keys::{is_valid_name, validate_queue_name};
use crate::wire::record::{Envelope, encode_record};

/// Longest accepted cron entry name, in bytes.
pub const MAX_CRON_NAME_LEN: usize = 128;

/// Most missed ticks [`Misfire::RunAll`] enqueues at once.
pub const MAX_MISFIRE_RUNS: u32 = 1000;

/// What to do with ticks that passed while no scheduler ran (more than
/// [`super::MISFIRE_GRACE_MS`] ago; later ticks always run, just late).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum Misfire {
    /// Drop them; the next run is the next tick.
    Skip,
    /// Enqueue one run now for the latest missed tick (the default: a
    /// missed nightly report still runs once, not seven times after a week).
    #[default]
    RunOnce,
    /// Enqueue one run per missed tick, at most `max` (the latest ones),
    /// itself at most [`MAX_MISFIRE_RUNS`].
    RunAll {
        /// Most runs enqueued for missed ticks.
        max: u32,
    },
}

impl Misfire {
    /// How many of the latest missed ticks get a run.
    pub(crate) fn runs_kept(self) -> usize {
        match self {
            Misfire::Skip => 0,
            Misfire::RunOnce => 1,
            Misfire::RunAll { max } => max.min(MAX_MISFIRE_RUNS) as usize,
        }
    }
}

/// A job enqueued on a cron schedule. Register it on a worker with
/// `WorkerBuilder::cron_entry` (or `WorkerBuilder::cron`); every process
/// that registers the same entry shares its ticks, and each tick is
/// enqueued exactly once however many of them run.
///
/// ```
/// use jobqueue_core::cron::{CronEntry, Misfire};
/// # use jobqueue_core::{Job, JobContext, JobError};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct PruneSessions;
/// # impl Job for PruneSessions {
/// #     const NAME: &'static str = "prune_sessions";
/// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// # }
/// let entry = CronEntry::new("prune-sessions", "0 */5 * * * *", &PruneSessions)?
///     .time_zone("Europe/Berlin")?
///     .misfire(Misfire::Skip)
///     .queue("maintenance")?;
/// assert_eq!(entry.name(), "prune-sessions");
/// # Ok::<(), jobqueue_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CronEntry {
    pub(crate) schedule: CronSchedule,
    pub(crate) definition: CronDefinition,
}

/// What is stored in Redis about an entry, so the operator API can show
/// it and run it without the code that registered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CronDefinition {
    pub(crate) name: String,
    pub(crate) queue: String,
    pub(crate) schedule: String,
    pub(crate) time_zone: String,
    pub(crate) misfire: Misfire,
    /// The envelope every run starts from (id and cron name set per run).
    pub(crate) envelope: Envelope,
    /// The payload JSON, verbatim.
    pub(crate) payload: String,
}

impl CronEntry {
    /// An entry named `name` that enqueues `job` on `expression` (UTC, see
    /// [`CronSchedule::parse`]) to the job type's queue.
    pub fn new<J: StatefulJob>(name: &str, expression: &str, job: &J) -> Result<Self, Error> {
        validate_cron_name(name)?;
        validate_job_type(J::NAME)?;
        let schedule = CronSchedule::parse(expression)?;
        let payload = serde_json::to_string(job).map_err(|source| Error::Encode {
            op: "cron",
            job_type: J::NAME.to_owned(),
            source,
        })?;
        let mut envelope = Envelope::new(J::NAME);
        envelope.version = J::VERSION;
        envelope.flow = job.flow_key();
        if let Some(key) = &envelope.flow {
            crate::admin::keys::validate_flow_key(key)?;
        }
        Ok(Self {
            definition: CronDefinition {
                name: name.to_owned(),
                queue: J::QUEUE.to_owned(),
                schedule: schedule.expression().to_owned(),
                time_zone: schedule.time_zone().to_owned(),
                misfire: Misfire::default(),
                envelope,
                payload,
            },
            schedule,
        })
    }

    /// Reads the schedule in the IANA time zone `name`.
    pub fn time_zone(mut self, name: &str) -> Result<Self, Error> {
        self.schedule = self.schedule.in_time_zone(name)?;
        self.definition.time_zone = self.schedule.time_zone().to_owned();
        Ok(self)
    }

    /// Sends the runs to `queue` instead of the job type's queue.
    pub fn queue(mut self, queue: &str) -> Result<Self, Error> {
        validate_queue_name(queue)?;
        self.definition.queue = queue.to_owned();
        Ok(self)
    }

    /// What to do with ticks missed while no scheduler ran.
    #[must_use]
    pub fn misfire(mut self, policy: Misfire) -> Self {
        self.definition.misfire = policy;
        self
    }

    /// Most attempts of each run.
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.definition.envelope.max_attempts = Some(attempts.max(1));
        self
    }

    /// The entry's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// The queue its runs go to.
    pub fn queue_name(&self) -> &str {
        &self.definition.queue
    }

    /// The schedule.
    pub fn schedule(&self) -> &CronSchedule {
        &self.schedule
    }

    /// The misfire policy.
    pub fn misfire_policy(&self) -> Misfire {
        self.definition.misfire
    }

    /// Rebuilds an entry from its stored definition.
    pub(crate) fn from_definition(definition: CronDefinition) -> Result<Self, Error> {
        let schedule =
            CronSchedule::parse(&definition.schedule)?.in_time_zone(&definition.time_zone)?;
        Ok(Self {
            schedule,
            definition,
        })
    }

    /// The stored definition as JSON.
    pub(crate) fn definition_json(&self) -> Result<String, Error> {
        serde_json::to_string(&self.definition).map_err(|source| Error::Encode {
            op: "cron",
            job_type: self.definition.envelope.job_type.clone(),
            source,
        })
    }

    /// The record of the run for `tick_ms`. Its id is a UUID v7 whose time
    /// is the tick and whose random part is derived from the queue, entry
    /// and tick, so the run of one tick has one id whoever enqueues it.
    /// `expires_at_ms`: when the run is dropped if it has not started.
    pub(crate) fn tick_record(
        &self,
        tick_ms: i64,
        expires_at_ms: Option<i64>,
    ) -> Result<(Uuid, Vec<u8>), Error> {
        let seed = format!(
            "{}\n{}\n{}",
            self.definition.queue, self.definition.name, tick_ms
        );
        let digest = sha1_smol::Sha1::from(seed).digest().bytes();
        let mut random = [0u8; 10];
        random.copy_from_slice(&digest[..10]);
        let id =
            uuid::Builder::from_unix_timestamp_millis(u64::try_from(tick_ms).unwrap_or(0), &random)
                .into_uuid();
        self.record_with_id(id, expires_at_ms)
    }

    /// The record of an extra run ("run now"), with a fresh id.
    pub(crate) fn fresh_record(&self) -> Result<(Uuid, Vec<u8>), Error> {
        self.record_with_id(Uuid::now_v7(), None)
    }

    fn record_with_id(
        &self,
        id: Uuid,
        expires_at_ms: Option<i64>,
    ) -> Result<(Uuid, Vec<u8>), Error> {
        let mut envelope = self.definition.envelope.clone();
        envelope.id = id;
        envelope.expires_at = expires_at_ms;
        envelope.cron = Some(self.definition.name.clone());
        let record = encode_record(&envelope, self.definition.payload.as_bytes())?;
        Ok((id, record))
    }
}

/// Checks a cron entry name: 1-128 bytes of ASCII letters, digits and `_ - . :`.
pub fn validate_cron_name(name: &str) -> Result<(), Error> {
    if is_valid_name(name, MAX_CRON_NAME_LEN) {
        Ok(())
    } else {
        Err(Error::invalid(
            "cron",
            format!(
                "cron entry name {name:?} must be 1-{MAX_CRON_NAME_LEN} characters of A-Z a-z 0-9 _ - . :"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::record::{decode_record, uuid_v7_millis};
    use crate::{Job, JobContext, JobError};

    #[derive(Serialize, Deserialize)]
    struct Report {
        day: u32,
    }

    impl Job for Report {
        const NAME: &'static str = "report";
        async fn perform(&self, _: &JobContext) -> Result<(), JobError> {
            Ok(())
        }
    }

    #[test]
    fn a_tick_has_one_id_whoever_computes_it() {
        let entry = CronEntry::new("nightly", "0 0 3 * * *", &Report { day: 1 }).unwrap();
        let (a, record) = entry.tick_record(1_800_000_000_000, None).unwrap();
        let (b, _) = entry.tick_record(1_800_000_000_000, None).unwrap();
        let (c, _) = entry.tick_record(1_800_000_001_000, None).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(uuid_v7_millis(&a), Some(1_800_000_000_000));
        let (envelope, payload) = decode_record(&record).unwrap();
        assert_eq!(envelope.id, a);
        assert_eq!(envelope.cron.as_deref(), Some("nightly"));
        assert_eq!(payload, br#"{"day":1}"#);
        let other_queue = entry.clone().queue("other").unwrap();
        assert_ne!(
            other_queue.tick_record(1_800_000_000_000, None).unwrap().0,
            a
        );
    }

    #[test]
    fn the_definition_round_trips() {
        let entry = CronEntry::new("nightly", "0 3 * * *", &Report { day: 2 })
            .unwrap()
            .time_zone("Asia/Tokyo")
            .unwrap()
            .misfire(Misfire::RunAll { max: 3 });
        let json = entry.definition_json().unwrap();
        let back = CronEntry::from_definition(serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(back.definition, entry.definition);
        assert_eq!(back.schedule().time_zone(), "Asia/Tokyo");
    }

    #[test]
    fn bad_names_are_rejected() {
        assert!(CronEntry::new("", "* * * * *", &Report { day: 1 }).is_err());
        assert!(CronEntry::new("a{b}", "* * * * *", &Report { day: 1 }).is_err());
        assert!(CronEntry::new("ok", "* * * * *", &Report { day: 1 }).is_ok());
    }
}
