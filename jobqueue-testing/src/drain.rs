//! Draining queues inline: every ready job runs through the registered
//! handlers, one at a time, in the test's own task.

use jobqueue_core::JobSet;
use jobqueue_worker::{InlineOutcome, InlineRun, InlineWorker, WorkerBuilder};
use uuid::Uuid;

use crate::error::TestingError;
use crate::test_redis::TestRedis;

/// Default most jobs one drain runs.
pub const DEFAULT_DRAIN_LIMIT: usize = 1000;

/// How a drain runs; see [`TestRedis::drain_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct DrainOptions {
    retries: bool,
    max_jobs: usize,
    queues: Option<Vec<String>>,
}

impl Default for DrainOptions {
    fn default() -> Self {
        Self {
            retries: false,
            max_jobs: DEFAULT_DRAIN_LIMIT,
            queues: None,
        }
    }
}

impl DrainOptions {
    /// Ready jobs of every known queue, no retries, at most 1000 jobs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also run failed jobs again at once (skipping their backoff) until
    /// each one succeeds or is dead.
    pub fn with_retries(mut self) -> Self {
        self.retries = true;
        self
    }

    /// Most jobs the drain runs (default 1000); when it has run that many
    /// and a job is still ready, it fails with [`TestingError::DrainLimit`].
    pub fn max_jobs(mut self, max_jobs: usize) -> Self {
        self.max_jobs = max_jobs.max(1);
        self
    }

    /// Only these queues, in this order (default: every known queue,
    /// sorted by name, including queues that jobs enqueue into while the
    /// drain runs).
    pub fn queues<I, S>(mut self, queues: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.queues = Some(queues.into_iter().map(Into::into).collect());
        self
    }
}

/// Every run of one drain, in the order they ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrainReport {
    /// The runs.
    pub runs: Vec<InlineRun>,
}

impl DrainReport {
    /// Runs that succeeded.
    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, InlineOutcome::Succeeded))
    }

    /// Runs that failed and were scheduled for a retry.
    pub fn retried(&self) -> usize {
        self.count(|o| matches!(o, InlineOutcome::Retrying { .. }))
    }

    /// Runs after which the job was dead.
    pub fn dead(&self) -> usize {
        self.count(|o| matches!(o, InlineOutcome::Dead { .. }))
    }

    /// Runs of jobs of type `job_type`.
    pub fn runs_of<'a>(&'a self, job_type: &'a str) -> impl Iterator<Item = &'a InlineRun> + 'a {
        self.runs
            .iter()
            .filter(move |run| run.job_type.as_deref() == Some(job_type))
    }

    fn count(&self, pick: impl Fn(&InlineOutcome) -> bool) -> usize {
        self.runs.iter().filter(|run| pick(&run.outcome)).count()
    }
}

impl TestRedis {
    /// Runs every ready job of every known queue through the job types
    /// registered on `worker`, one at a time, until no job is ready; jobs
    /// the jobs enqueue run too. Failed jobs go to the retry set and dead
    /// jobs to the dead set as in production; see
    /// [`DrainOptions::with_retries`] to run retries at once.
    ///
    /// `worker` must use the test's client (start from
    /// [`TestRedis::worker`]); its queue list is replaced by the drained
    /// queues, the rest of its setup (middleware, …) is kept.
    ///
    /// ```
    /// # use jobqueue_core::{Job, JobContext, JobError};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize)] struct SendWelcomeEmail { email: String }
    /// # impl Job for SendWelcomeEmail {
    /// #     const NAME: &'static str = "send_welcome_email";
    /// #     async fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), jobqueue_testing::TestingError> {
    /// let t = jobqueue_testing::TestRedis::new().await?;
    /// t.client().enqueue(SendWelcomeEmail { email: "ada@example.com".into() }).await?;
    /// let report = t.drain(t.worker().register::<SendWelcomeEmail>()).await?;
    /// assert_eq!(report.succeeded(), 1);
    /// # Ok(()) }
    /// ```
    ///
    /// A worker given application state runs jobs with it, so tests with
    /// different states run in parallel:
    /// `t.drain(t.worker().state(app).register::<SendWelcomeEmail>())`.
    pub async fn drain<S>(&self, worker: WorkerBuilder<S>) -> Result<DrainReport, TestingError> {
        self.drain_with(worker, DrainOptions::default()).await
    }

    /// [`TestRedis::drain`] with options.
    pub async fn drain_with<S>(
        &self,
        worker: WorkerBuilder<S>,
        options: DrainOptions,
    ) -> Result<DrainReport, TestingError> {
        let mut report = DrainReport::default();
        let mut queues = self.drained_queues(&options).await?;
        if queues.is_empty() {
            return Ok(report);
        }
        let mut inline = start_inline(&worker, &queues).await?;
        let result = loop {
            match self
                .drain_round(&inline, &options, &mut queues, &mut report)
                .await
            {
                Ok(Round::Done) => break Ok(()),
                Ok(Round::More) => {}
                Ok(Round::NewQueues) => {
                    inline.close().await;
                    inline = start_inline(&worker, &queues).await?;
                }
                Err(err) => break Err(err),
            }
        };
        inline.close().await;
        result.map(|()| report)
    }

    /// Runs what is ready, then looks for more work: retries to run now
    /// (when asked) and queues that appeared meanwhile.
    async fn drain_round(
        &self,
        inline: &InlineWorker,
        options: &DrainOptions,
        queues: &mut Vec<String>,
        report: &mut DrainReport,
    ) -> Result<Round, TestingError> {
        let left = options.max_jobs.saturating_sub(report.runs.len());
        let runs = inline.run_ready(left).await?;
        let ran = runs.len();
        report.runs.extend(runs);
        if report.runs.len() >= options.max_jobs {
            if self.any_ready(queues).await? {
                return Err(TestingError::DrainLimit {
                    limit: options.max_jobs,
                });
            }
            return Ok(Round::Done);
        }
        let retried = if options.retries {
            self.retry_now(queues).await?
        } else {
            0
        };
        let known = self.drained_queues(options).await?;
        if known != *queues {
            *queues = known;
            return Ok(Round::NewQueues);
        }
        Ok(if ran > 0 || retried > 0 {
            Round::More
        } else {
            Round::Done
        })
    }

    /// Makes every retrying job of `queues` ready now; returns how many.
    ///
    /// Retry times carry random jitter, so going by them would make the
    /// order of a drain vary between runs; retries are made ready in the
    /// order their jobs were first enqueued instead (ids are UUID v7).
    pub(crate) async fn retry_now(&self, queues: &[String]) -> Result<u64, TestingError> {
        let client = self.client();
        let admin = client.admin();
        let store = client.store();
        let mut conn = store.connection();
        let mut moved = 0;
        for queue in queues {
            let keys = store.queue_keys(queue)?;
            let waiting: Vec<String> = redis::cmd("ZRANGE")
                .arg(JobSet::Retry.key(&keys))
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await?;
            let mut ids: Vec<Uuid> = waiting.iter().filter_map(|id| id.parse().ok()).collect();
            ids.sort();
            if !ids.is_empty() {
                moved += admin.retry(queue, JobSet::Retry, &ids).await?;
            }
        }
        Ok(moved)
    }

    /// True when a job is ready on one of `queues`.
    async fn any_ready(&self, queues: &[String]) -> Result<bool, TestingError> {
        let admin = self.client().admin();
        for queue in queues {
            if admin.queue(queue).await?.ready > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn drained_queues(&self, options: &DrainOptions) -> Result<Vec<String>, TestingError> {
        match &options.queues {
            Some(queues) => Ok(queues.clone()),
            None => Ok(self.client().store().queue_names().await?),
        }
    }
}

/// What a drain round found.
enum Round {
    /// Nothing ran and nothing became ready: the drain is over.
    Done,
    /// Jobs ran or became ready: go again.
    More,
    /// Jobs enqueued into queues the inline worker does not serve.
    NewQueues,
}

/// An inline worker with `worker`'s setup, serving `queues` in order.
async fn start_inline<S>(
    worker: &WorkerBuilder<S>,
    queues: &[String],
) -> Result<InlineWorker, TestingError> {
    Ok(worker
        .clone()
        .queues(queues.iter().cloned())
        .allow_unserved_queues()
        .inline()
        .await?)
}
