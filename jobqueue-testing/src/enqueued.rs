//! Listing the jobs a test enqueued, decoded into their types, and
//! asserting on them.

use chrono::{DateTime, Utc};
use jobqueue_core::PayloadCodec;
use jobqueue_core::admin::millis_to_datetime;
use jobqueue_core::store::keys::QueueKeys;
use jobqueue_core::wire::record::decode_record;
use jobqueue_core::{JobSet, JobState, StatefulJob};
use uuid::Uuid;

use crate::error::TestingError;
use crate::test_redis::TestRedis;

/// One waiting job of type `J`, as a test sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued<J> {
    /// The job id.
    pub id: Uuid,
    /// Its queue.
    pub queue: String,
    /// Ready, scheduled, retry or dead.
    pub state: JobState,
    /// The job itself, decoded (and upcast from older payload versions).
    pub job: J,
    /// Attempts already made.
    pub attempt: u32,
    /// Priority within the queue.
    pub priority: i16,
    /// When a scheduled or retrying job is due, or when a dead job died.
    pub at: Option<DateTime<Utc>>,
    /// The payload JSON as stored.
    pub payload: String,
}

/// A stored record with where it was found.
struct Found {
    queue: String,
    state: JobState,
    at_ms: Option<f64>,
    record: Vec<u8>,
}

impl TestRedis {
    /// Every waiting job of type `J` (ready, prioritised, scheduled,
    /// waiting for a retry or for its parents) on every queue, in queue
    /// order then in the order they will run.
    pub async fn enqueued<J: StatefulJob>(&self) -> Result<Vec<Enqueued<J>>, TestingError> {
        self.jobs_in::<J>(&[
            JobState::Ready,
            JobState::Scheduled,
            JobState::Retry,
            JobState::Waiting,
        ])
        .await?
        .into_iter()
        .collect()
    }

    /// Every dead job of type `J` whose payload decodes, most recent
    /// first. (Payloads that do not decode are skipped here — that is
    /// often why they are dead; the waiting-job listings report them as
    /// [`TestingError::Decode`] instead.)
    pub async fn dead<J: StatefulJob>(&self) -> Result<Vec<Enqueued<J>>, TestingError> {
        let jobs = self.jobs_in::<J>(&[JobState::Dead]).await?;
        Ok(jobs.into_iter().filter_map(Result::ok).collect())
    }

    /// Asserts that a waiting job of type `J` matches `matches`, and returns
    /// the first that does. Panics with the jobs of that type it found
    /// otherwise.
    ///
    /// ```no_run
    /// # use jobqueue_core::{Job, JobContext, JobError};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize)] struct SendWelcomeEmail { email: String }
    /// # impl Job for SendWelcomeEmail {
    /// #     const NAME: &'static str = "send_welcome_email";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # async fn demo() -> Result<(), jobqueue_testing::TestingError> {
    /// let t = jobqueue_testing::TestRedis::new().await?;
    /// # let sign_up = |_c: jobqueue_core::Client, _e: &str| async {};
    /// sign_up(t.client(), "ada@example.com").await; // the code under test
    /// t.assert_enqueued::<SendWelcomeEmail>(|job| job.email == "ada@example.com").await;
    /// # Ok(()) }
    /// ```
    pub async fn assert_enqueued<J: StatefulJob>(
        &self,
        matches: impl Fn(&J) -> bool,
    ) -> Enqueued<J> {
        let jobs = self.enqueued_or_panic::<J>().await;
        let summary = summarize(&jobs);
        match jobs.into_iter().find(|found| matches(&found.job)) {
            Some(found) => found,
            None => panic!(
                "expected an enqueued '{}' job matching the predicate; {summary}",
                J::NAME
            ),
        }
    }

    /// Asserts that no waiting job of type `J` matches `matches`.
    pub async fn assert_not_enqueued<J: StatefulJob>(&self, matches: impl Fn(&J) -> bool) {
        let jobs = self.enqueued_or_panic::<J>().await;
        if let Some(found) = jobs.iter().find(|found| matches(&found.job)) {
            panic!(
                "expected no enqueued '{}' job matching the predicate, found {} ({:?}): {}",
                J::NAME,
                found.id,
                found.state,
                found.payload
            );
        }
    }

    /// Asserts exactly `count` waiting jobs of type `J`, and returns them.
    pub async fn assert_enqueued_count<J: StatefulJob>(&self, count: usize) -> Vec<Enqueued<J>> {
        let jobs = self.enqueued_or_panic::<J>().await;
        assert!(
            jobs.len() == count,
            "expected {count} enqueued '{}' job(s); {}",
            J::NAME,
            summarize(&jobs)
        );
        jobs
    }

    async fn enqueued_or_panic<J: StatefulJob>(&self) -> Vec<Enqueued<J>> {
        match self.enqueued::<J>().await {
            Ok(jobs) => jobs,
            Err(err) => panic!("could not list enqueued '{}' jobs: {err}", J::NAME),
        }
    }

    /// Jobs of type `J` in the given states, each decoded or why not.
    async fn jobs_in<J: StatefulJob>(
        &self,
        states: &[JobState],
    ) -> Result<Vec<Result<Enqueued<J>, TestingError>>, TestingError> {
        let store = self.client().store().clone();
        let codec = self.client().config().codec().clone();
        let mut found = Vec::new();
        for name in store.queue_names().await? {
            let keys = store.queue_keys(&name)?;
            for state in states {
                found.extend(self.records(&keys, *state).await?);
            }
        }
        Ok(found
            .into_iter()
            .filter_map(|found| decode_as::<J>(found, &codec).transpose())
            .collect())
    }

    /// Every record of one queue in one state (tests hold few jobs, so the
    /// whole list or set is read at once).
    async fn records(&self, keys: &QueueKeys, state: JobState) -> Result<Vec<Found>, TestingError> {
        let mut conn = self.client().store().connection();
        let found = |record, at_ms| Found {
            queue: keys.name().to_owned(),
            state,
            at_ms,
            record,
        };
        let set = match state {
            JobState::Ready => {
                let listed: Vec<Vec<u8>> = redis::cmd("LRANGE")
                    .arg(keys.ready())
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await?;
                let prioritised: Vec<Vec<u8>> = redis::cmd("ZRANGE")
                    .arg(keys.priority())
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await?;
                return Ok(prioritised
                    .into_iter()
                    .chain(listed)
                    .map(|record| found(record, None))
                    .collect());
            }
            JobState::Scheduled => JobSet::Scheduled,
            JobState::Retry => JobSet::Retry,
            JobState::Dead => JobSet::Dead,
            JobState::Waiting => JobSet::Waiting,
            // Leased, cancelled and expired jobs are not waiting: the
            // helpers that list jobs never ask for them.
            JobState::Active | JobState::Cancelled | JobState::Expired => return Ok(Vec::new()),
        };
        let order = if set == JobSet::Dead {
            "ZREVRANGE"
        } else {
            "ZRANGE"
        };
        let entries: Vec<(String, f64)> = redis::cmd(order)
            .arg(set.key(keys))
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
        let records: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(keys.jobs())
            .arg(&ids)
            .query_async(&mut conn)
            .await?;
        Ok(entries
            .iter()
            .zip(records)
            .filter_map(|((_, score), record)| record.map(|r| found(r, Some(*score))))
            .collect())
    }
}

/// Decodes a record as a `J` (its payload decompressed or decrypted by the
/// test client's `codec`), upcasting older payload versions; `None` when it
/// is a job of another type (or not a job record at all).
fn decode_as<J: StatefulJob>(
    found: Found,
    codec: &PayloadCodec,
) -> Result<Option<Enqueued<J>>, TestingError> {
    let Ok((envelope, stored)) = decode_record(&found.record) else {
        return Ok(None);
    };
    if envelope.job_type != J::NAME {
        return Ok(None);
    }
    let decode_error = |message: String| TestingError::Decode {
        id: envelope.id.to_string(),
        job_type: J::NAME.to_owned(),
        message,
    };
    let payload = codec
        .decode(&envelope.job_type, envelope.enc.as_deref(), stored)
        .map_err(|err| decode_error(err.to_string()))?;
    let job: J = jobqueue_core::decode_payload(&payload, envelope.version)
        .map_err(|err| decode_error(err.to_string()))?;
    Ok(Some(Enqueued {
        id: envelope.id,
        queue: found.queue,
        state: found.state,
        job,
        attempt: envelope.attempt,
        priority: envelope.priority,
        at: found.at_ms.and_then(|ms| millis_to_datetime(ms as i64)),
        payload: String::from_utf8_lossy(&payload).into_owned(),
    }))
}

/// "found N of that type: …" for assertion messages.
fn summarize<J>(jobs: &[Enqueued<J>]) -> String {
    if jobs.is_empty() {
        return "found none of that type".to_owned();
    }
    let listed: Vec<String> = jobs
        .iter()
        .map(|job| {
            format!(
                "  {} [{:?} on '{}'] {}",
                job.id, job.state, job.queue, job.payload
            )
        })
        .collect();
    format!("found {} of that type:\n{}", jobs.len(), listed.join("\n"))
}
