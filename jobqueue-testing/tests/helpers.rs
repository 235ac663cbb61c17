//! The test helpers, tested against the real Redis (JOBQUEUE_TEST_REDIS_URL).

use std::time::Duration;

use jobqueue_core::ClientConfig;
use jobqueue_core::{Job, JobContext, JobError, JobState};
use jobqueue_testing::{DrainOptions, InlineOutcome, TestRedis, TestingError, eventually};
use serde::{Deserialize, Serialize};

/// Appends `"<label>:<attempt>"` to a Redis list each run, so a test can
/// see exactly which runs happened, in which order; fails its first
/// `fail_times` attempts; enqueues `then` (another `Step`) on success.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Step {
    url: String,
    log_key: String,
    label: String,
    #[serde(default)]
    fail_times: u32,
    #[serde(default)]
    then: Option<Box<Step>>,
    #[serde(default)]
    then_queue: Option<String>,
}

impl Job for Step {
    const NAME: &'static str = "step";
    const MAX_ATTEMPTS: u32 = 3;

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let client = redis::Client::open(self.url.as_str()).map_err(JobError::retry)?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(JobError::retry)?;
        redis::cmd("RPUSH")
            .arg(&self.log_key)
            .arg(format!("{}:{}", self.label, ctx.attempt()))
            .query_async::<i64>(&mut conn)
            .await
            .map_err(JobError::retry)?;
        if ctx.attempt() <= self.fail_times {
            return Err(JobError::retry(format!(
                "{} fails on attempt {}",
                self.label,
                ctx.attempt()
            )));
        }
        if let Some(next) = &self.then {
            let jobs = jobqueue_core::Client::with_config(
                jobqueue_core::ClientConfig::new(&self.url).prefix(prefix_of(&self.log_key)),
            )
            .await
            .map_err(JobError::retry)?;
            let queue = self.then_queue.as_deref().unwrap_or("default");
            jobs.job((**next).clone())
                .queue(queue)
                .enqueue()
                .await
                .map_err(JobError::retry)?;
        }
        Ok(())
    }
}

/// A job that enqueues itself again every time it runs.
#[derive(Serialize, Deserialize)]
struct Forever {
    url: String,
    prefix: String,
}

impl Job for Forever {
    const NAME: &'static str = "forever";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        let jobs = jobqueue_core::Client::with_config(
            jobqueue_core::ClientConfig::new(&self.url).prefix(&self.prefix),
        )
        .await
        .map_err(JobError::retry)?;
        jobs.enqueue(Forever {
            url: self.url.clone(),
            prefix: self.prefix.clone(),
        })
        .await
        .map_err(JobError::retry)?;
        Ok(())
    }
}

/// The log key is `<prefix>:log`.
fn prefix_of(log_key: &str) -> &str {
    log_key
        .rsplit_once(':')
        .map_or(log_key, |(prefix, _)| prefix)
}

fn step(t: &TestRedis, label: &str) -> Step {
    Step {
        url: t.url().to_owned(),
        log_key: format!("{}:log", t.prefix()),
        label: label.to_owned(),
        fail_times: 0,
        then: None,
        then_queue: None,
    }
}

async fn log(t: &TestRedis) -> Vec<String> {
    let mut conn = t.connection().await.expect("connect to the test Redis");
    redis::cmd("LRANGE")
        .arg(format!("{}:log", t.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("LRANGE")
}

#[tokio::test]
async fn assert_enqueued_finds_the_job_with_its_args_queue_and_state() -> Result<(), TestingError> {
    let t = TestRedis::named("assert").await?;
    let client = t.client();
    client.enqueue(step(&t, "a")).await?;
    client.job(step(&t, "b")).queue("mail").enqueue().await?;
    client
        .enqueue_in(Duration::from_secs(600), step(&t, "later"))
        .await?;

    let b = t.assert_enqueued::<Step>(|job| job.label == "b").await;
    assert_eq!((b.queue.as_str(), b.state), ("mail", JobState::Ready));
    let later = t.assert_enqueued::<Step>(|job| job.label == "later").await;
    assert_eq!(later.state, JobState::Scheduled);
    let due = later.at.expect("a scheduled job has a due time");
    let from_now = due - chrono::Utc::now();
    assert!(
        from_now > chrono::Duration::seconds(500) && from_now <= chrono::Duration::seconds(600),
        "due in {from_now}"
    );
    t.assert_not_enqueued::<Step>(|job| job.label == "c").await;
    assert_eq!(t.assert_enqueued_count::<Step>(3).await.len(), 3);
    Ok(())
}

#[tokio::test]
#[should_panic(
    expected = "expected an enqueued 'step' job matching the predicate; found 1 of that type"
)]
async fn assert_enqueued_fails_and_shows_what_it_found() {
    let t = TestRedis::named("assert-fail").await.expect("test redis");
    t.client().enqueue(step(&t, "a")).await.expect("enqueue");
    t.assert_enqueued::<Step>(|job| job.label == "zzz").await;
}

#[tokio::test]
async fn drain_runs_ready_jobs_in_order_including_jobs_they_enqueue() -> Result<(), TestingError> {
    let t = TestRedis::named("drain").await?;
    let client = t.client();
    let mut first = step(&t, "first");
    first.then = Some(Box::new(step(&t, "child-on-new-queue")));
    first.then_queue = Some("followups".into());
    client.enqueue(first).await?;
    client.enqueue(step(&t, "second")).await?;

    let report = t.drain(t.worker().register::<Step>()).await?;

    assert_eq!(
        log(&t).await,
        ["first:1", "second:1", "child-on-new-queue:1"],
        "FIFO on the default queue, then the queue the first job enqueued into"
    );
    assert_eq!(report.succeeded(), 3);
    assert_eq!(report.runs[2].queue, "followups");
    assert_eq!(t.enqueued::<Step>().await?.len(), 0);
    let queue = t.client().admin().queue("default").await?;
    assert_eq!((queue.ready, queue.active, queue.retry), (0, 0, 0));
    Ok(())
}

#[tokio::test]
async fn drain_leaves_failures_in_the_retry_set_unless_retries_are_asked_for()
-> Result<(), TestingError> {
    let t = TestRedis::named("retries").await?;
    let mut flaky = step(&t, "flaky");
    flaky.fail_times = 2;
    let mut poison = step(&t, "poison");
    poison.fail_times = 99;
    t.client().enqueue(flaky).await?;
    t.client().enqueue(poison).await?;

    let once = t.drain(t.worker().register::<Step>()).await?;
    assert_eq!((once.succeeded(), once.retried()), (0, 2));
    assert!(
        matches!(&once.runs[0].outcome, InlineOutcome::Retrying { error, .. } if error == "flaky fails on attempt 1")
    );
    let waiting = t.enqueued::<Step>().await?;
    assert!(
        waiting
            .iter()
            .all(|job| job.state == JobState::Retry && job.attempt == 1)
    );

    let all = t
        .drain_with(
            t.worker().register::<Step>(),
            DrainOptions::new().with_retries(),
        )
        .await?;
    assert_eq!(all.succeeded(), 1, "{all:?}");
    assert_eq!(all.dead(), 1, "poison runs out of its 3 attempts");
    assert_eq!(
        log(&t).await,
        [
            "flaky:1", "poison:1", "flaky:2", "poison:2", "flaky:3", "poison:3"
        ]
    );
    let dead = t.dead::<Step>().await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].job.label, "poison");
    assert_eq!(dead[0].attempt, 3);
    assert!(t.enqueued::<Step>().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn drain_stops_at_its_limit_when_jobs_keep_enqueueing_jobs() -> Result<(), TestingError> {
    let t = TestRedis::named("limit").await?;
    t.client()
        .enqueue(Forever {
            url: t.url().to_owned(),
            prefix: t.prefix().to_owned(),
        })
        .await?;
    let result = t
        .drain_with(
            t.worker().register::<Forever>(),
            DrainOptions::new().max_jobs(25),
        )
        .await;
    assert!(
        matches!(result, Err(TestingError::DrainLimit { limit: 25 })),
        "{result:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_drain_that_runs_exactly_its_limit_and_empties_the_queue_succeeds()
-> Result<(), TestingError> {
    let t = TestRedis::named("limit-exact").await?;
    t.client()
        .enqueue_bulk([step(&t, "a"), step(&t, "b")])
        .await?;
    let report = t
        .drain_with(
            t.worker().register::<Step>(),
            DrainOptions::new().max_jobs(2),
        )
        .await?;
    assert_eq!(report.succeeded(), 2);
    Ok(())
}

#[tokio::test]
async fn advancing_by_exactly_the_delay_makes_the_job_due() -> Result<(), TestingError> {
    // Due times carry microseconds: right after an enqueue, fewer than one
    // whole millisecond may have passed. Several rounds, so a truncated
    // horizon would be caught.
    for round in 0..20 {
        let t = TestRedis::named("clock-exact").await?;
        t.client()
            .enqueue_in(Duration::from_secs(3600), step(&t, "due"))
            .await?;
        assert_eq!(
            t.advance(Duration::from_secs(3600)).await?,
            1,
            "round {round}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn advance_makes_delayed_jobs_due_when_their_time_comes() -> Result<(), TestingError> {
    let t = TestRedis::named("clock").await?;
    let client = t.client();
    client
        .enqueue_in(Duration::from_secs(3 * 3600), step(&t, "in-3h"))
        .await?;
    client
        .enqueue_in(Duration::from_secs(24 * 3600), step(&t, "tomorrow"))
        .await?;
    let worker = || t.worker().register::<Step>();

    assert_eq!(t.drain(worker()).await?.runs.len(), 0, "nothing is due yet");
    assert_eq!(t.advance(Duration::from_secs(2 * 3600)).await?, 0);
    assert_eq!(t.advance(Duration::from_secs(3600)).await?, 1);
    assert_eq!(t.drain(worker()).await?.succeeded(), 1);
    assert_eq!(log(&t).await, ["in-3h:1"]);
    assert_eq!(t.clock_offset(), Duration::from_secs(3 * 3600));

    t.assert_enqueued::<Step>(|job| job.label == "tomorrow")
        .await;
    assert_eq!(t.promote_all().await?, 1);
    assert_eq!(t.drain(worker()).await?.succeeded(), 1);
    assert_eq!(log(&t).await, ["in-3h:1", "tomorrow:1"]);
    Ok(())
}

#[tokio::test]
async fn dropping_the_test_redis_deletes_every_key_under_its_prefix() -> Result<(), TestingError> {
    let t = TestRedis::named("cleanup").await?;
    let prefix = t.prefix().to_owned();
    t.client().enqueue(step(&t, "a")).await?;
    t.client()
        .enqueue_in(Duration::from_secs(60), step(&t, "b"))
        .await?;
    let url = t.url().to_owned();
    let count_keys = || async {
        let client = redis::Client::open(url.as_str()).expect("url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut conn)
            .await
            .expect("KEYS");
        keys.len()
    };
    assert!(
        count_keys().await >= 3,
        "ready list, scheduled set, jobs hash"
    );
    drop(t);
    assert_eq!(count_keys().await, 0);
    Ok(())
}

/// Version 1 of a job whose version 0 had `name` instead of `full_name`.
#[derive(Serialize, Deserialize)]
struct Greet {
    full_name: String,
}

impl Job for Greet {
    const NAME: &'static str = "greet";
    const VERSION: u32 = 1;

    fn upcast(from_version: u32, mut payload: serde_json::Value) -> serde_json::Value {
        if from_version == 0
            && let Some(name) = payload.get_mut("name").map(serde_json::Value::take)
        {
            payload["full_name"] = name;
        }
        payload
    }

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

#[tokio::test]
async fn enqueued_jobs_of_an_older_payload_version_are_upcast() -> Result<(), TestingError> {
    let t = TestRedis::named("upcast").await?;
    let keys = t.client().store().queue_keys("default")?;
    t.client().store().register_queues(["default"]).await?;
    let envelope = jobqueue_core::wire::record::Envelope::new("greet");
    let record = jobqueue_core::wire::record::encode_record(&envelope, br#"{"name":"Ada"}"#)?;
    t.client().store().enqueue_ready(&keys, &record).await?;

    let found = t
        .assert_enqueued::<Greet>(|job| job.full_name == "Ada")
        .await;
    assert_eq!(
        found.payload, r#"{"name":"Ada"}"#,
        "the stored payload is untouched"
    );
    Ok(())
}

#[tokio::test]
async fn a_reconnected_client_keeps_the_test_prefix_whatever_its_config_names()
-> Result<(), TestingError> {
    let mut t = TestRedis::named("reconnect").await?;
    let elsewhere = format!("{}-elsewhere", t.prefix());
    let config = ClientConfig::new(t.url())
        .prefix(&elsewhere)
        .response_timeout(Duration::from_secs(7));
    t.reconnect_with(config.clone()).await?;
    assert_eq!(t.client_config(), config.prefix(t.prefix()));
    t.client().enqueue(step(&t, "after")).await?;
    t.assert_enqueued::<Step>(|job| job.label == "after").await;
    let keys = t.keys().await?;
    assert!(
        keys.iter().any(|key| key.ends_with(":ready")),
        "the job went under the test's prefix: {keys:?}"
    );
    let mut conn = t.connection().await?;
    let stray: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{elsewhere}:*"))
        .query_async(&mut conn)
        .await?;
    assert!(stray.is_empty(), "{stray:?}");
    Ok(())
}

#[tokio::test]
async fn keys_lists_the_prefix_sorted_and_cleanup_deletes_them() -> Result<(), TestingError> {
    let t = TestRedis::named("keys").await?;
    let mut conn = t.connection().await?;
    for name in ["b", "a", "c"] {
        redis::cmd("SET")
            .arg(format!("{}:{name}", t.prefix()))
            .arg(1)
            .query_async::<()>(&mut conn)
            .await?;
    }
    // A key that only starts like the prefix is not the test's.
    let neighbour = format!("{}x:a", t.prefix());
    redis::cmd("SET")
        .arg(&neighbour)
        .arg(1)
        .query_async::<()>(&mut conn)
        .await?;
    let p = t.prefix();
    assert_eq!(
        t.keys().await?,
        [format!("{p}:a"), format!("{p}:b"), format!("{p}:c")]
    );
    assert_eq!(t.cleanup().await?, 3);
    assert!(t.keys().await?.is_empty());
    let left: u64 = redis::cmd("UNLINK")
        .arg(&neighbour)
        .query_async(&mut conn)
        .await?;
    assert_eq!(left, 1, "the neighbour's key was left alone");
    Ok(())
}

#[tokio::test]
async fn eventually_returns_once_the_check_holds_or_false_after_the_timeout() {
    let mut calls = 0;
    let held = eventually(Duration::from_secs(10), || {
        calls += 1;
        let now = calls;
        async move { now == 3 }
    })
    .await;
    assert!(held);
    assert_eq!(calls, 3, "no check after the one that held");

    let started = std::time::Instant::now();
    assert!(!eventually(Duration::from_millis(200), || async { false }).await);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}
