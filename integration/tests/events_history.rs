//! Live events and the history of finished jobs (issue 16, points 3 and
//! 4): both off by default and writing nothing then; when on, every
//! lifecycle step of jobs run by several worker processes arrives as a
//! typed event, in order per job, resumable from any event id; the event
//! stream and the history stay within their caps; a registered exporter
//! sees every entry before it is trimmed, and a loss past the hard cap is
//! counted, never silent; "did job X / a job tagged Y run on date D" is
//! answered by a bounded search.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use jobqueue_core::admin::{EventStart, HistoryFilter, JobEvent};
use jobqueue_core::{ErrorKind, Job, JobContext, JobError};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{TestJobTraces, WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

async fn conn(env: &TestRedis) -> redis::aio::MultiplexedConnection {
    redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn key(env: &TestRedis, suffix: &str) -> String {
    format!("{}:{{default}}:{suffix}", env.prefix())
}

async fn exists(env: &TestRedis, suffix: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(key(env, suffix))
        .query_async::<u64>(&mut conn(env).await)
        .await
        .unwrap()
        == 1
}

async fn xlen(env: &TestRedis, suffix: &str) -> u64 {
    redis::cmd("XLEN")
        .arg(key(env, suffix))
        .query_async(&mut conn(env).await)
        .await
        .unwrap()
}

/// Every event the queue's stream holds, oldest first.
async fn all_events(env: &TestRedis) -> Vec<JobEvent> {
    let admin = env.client().admin();
    let mut events = Vec::new();
    let mut start = EventStart::Oldest;
    loop {
        let page = admin.events_after("default", start, 100).await.unwrap();
        assert!(!page.missed);
        if page.events.is_empty() {
            return events;
        }
        events.extend(page.events);
        start = EventStart::After(page.next.unwrap());
    }
}

/// Kinds per job, in stream order.
fn kinds_per_job(events: &[JobEvent]) -> BTreeMap<Uuid, Vec<&'static str>> {
    let mut per_job: BTreeMap<Uuid, Vec<&'static str>> = BTreeMap::new();
    for event in events {
        per_job
            .entry(event.job_id)
            .or_default()
            .push(event.kind.name());
    }
    per_job
}

/// Enqueues a job that fails once then succeeds, and one that fails for
/// good; returns their ids.
async fn enqueue_flaky_and_doomed(env: &TestRedis) -> (Uuid, Uuid) {
    let client = env.client();
    let flaky = TestJob {
        fail_times: 1,
        ..env.test_job()
    };
    let doomed = TestJob {
        permanent: true,
        ..env.test_job()
    };
    (
        client.job(flaky).enqueue().await.unwrap(),
        client.job(doomed).enqueue().await.unwrap(),
    )
}

/// A job reporting its progress twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReportingJob;

impl Job for ReportingJob {
    const NAME: &'static str = "reporting";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.set_progress(50, "half <way>").await?;
        ctx.set_progress(100, "done").await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_history_are_off_by_default_and_write_nothing() {
    let env = test_redis("watch-off").await;
    let worker = test_worker(&env).start().await.unwrap();
    let client = env.client();
    client.job(env.test_job()).enqueue().await.unwrap();
    client
        .job(TestJob {
            permanent: true,
            ..env.test_job()
        })
        .enqueue()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            client.admin().queue("default").await.unwrap().dead == 1 && env.done_count().await == 1
        })
        .await
    );
    worker.shutdown().await;
    for suffix in ["event_stream", "history", "observe"] {
        assert!(!exists(&env, suffix).await, "{suffix} was written");
    }
    let settings = client.admin().watch_settings("default").await.unwrap();
    assert_eq!(settings.events_cap, None);
    assert_eq!(settings.history_cap, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifecycle_step_of_jobs_run_by_two_processes_is_an_event_in_order() {
    let env = test_redis("events-lifecycle").await;
    let client = env.client();
    let admin = client.admin();
    admin
        .set_event_stream("default", Some(10_000))
        .await
        .unwrap();
    // A live reader started before anything happens.
    let live = tokio::spawn({
        let client = client.clone();
        async move {
            let events = client.events("default");
            let mut events = std::pin::pin!(events);
            let mut seen = Vec::new();
            while let Ok(Some(event)) =
                tokio::time::timeout(Duration::from_secs(5), events.next()).await
            {
                seen.push(event.unwrap());
            }
            seen
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut plain = Vec::new();
    for _ in 0..40 {
        plain.push(client.job(env.test_job()).enqueue().await.unwrap());
    }
    let (flaky, doomed) = enqueue_flaky_and_doomed(&env).await;
    let later = client
        .job(env.test_job())
        .delay(Duration::from_secs(3600))
        .enqueue()
        .await
        .unwrap();
    let bulk = client
        .enqueue_bulk((0..20).map(|_| env.test_job()))
        .await
        .unwrap();

    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers = [
        WorkerProcess::start(WORKER, &spec),
        WorkerProcess::start(WORKER, &spec),
    ];
    assert!(env.wait_done(61, Duration::from_secs(20)).await);
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.unwrap().dead == 1
        })
        .await
    );
    assert!(matches!(
        client.cancel("default", later).await.unwrap(),
        jobqueue_core::client::cancel::CancelOutcome::Cancelled { .. }
    ));
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(10)));
    }

    let events = all_events(&env).await;
    let per_job = kinds_per_job(&events);
    for id in plain.iter().chain(&bulk) {
        assert_eq!(per_job[id], ["enqueued", "started", "succeeded"], "{id}");
    }
    assert_eq!(
        per_job[&flaky],
        [
            "enqueued",
            "started",
            "failed",
            "retrying",
            "started",
            "succeeded"
        ]
    );
    assert_eq!(per_job[&doomed], ["enqueued", "started", "failed", "dead"]);
    assert_eq!(per_job[&later], ["enqueued", "cancelled"]);
    assert_eq!(per_job.len(), 63);
    // Ids are strictly increasing, and times never go back.
    for pair in events.windows(2) {
        assert!(pair[0].id < pair[1].id);
        assert!(pair[0].at <= pair[1].at);
    }
    // Resuming after any event gives exactly the rest.
    let middle = events[events.len() / 2].id;
    let rest = admin
        .events_after("default", EventStart::After(middle), 1000)
        .await
        .unwrap();
    assert_eq!(rest.events, events[events.len() / 2 + 1..]);
    // The live reader saw the same events.
    let seen = live.await.unwrap();
    assert_eq!(seen, events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_an_event_and_the_stream_stays_within_its_cap() {
    let env = test_redis("events-cap").await;
    let client = env.client();
    let admin = client.admin();
    admin.set_event_stream("default", Some(100)).await.unwrap();
    let worker = test_worker(&env)
        .register::<ReportingJob>()
        .concurrency(4)
        .start()
        .await
        .unwrap();
    let id = client.job(ReportingJob).enqueue().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            kinds_per_job(&all_events(&env).await)
                .get(&id)
                .is_some_and(|kinds| kinds.last() == Some(&"succeeded"))
        })
        .await
    );
    let events = all_events(&env).await;
    let progress: Vec<String> = events
        .iter()
        .filter(|e| e.job_id == id && e.kind.name() == "progress")
        .map(|e| serde_json::to_string(&e.kind).unwrap())
        .collect();
    assert_eq!(
        progress,
        [
            r#"{"kind":"progress","percent":50,"message":"half <way>"}"#,
            r#"{"kind":"progress","percent":100,"message":"done"}"#
        ]
    );
    let first = events[0].id;

    // Thousands of script calls later the stream holds about its cap
    // (trimmed by whole nodes of 100 entries), and a reader resuming
    // from a trimmed event is told so.
    for _ in 0..60 {
        client
            .enqueue_bulk((0..20).map(|_| env.test_job()))
            .await
            .unwrap();
    }
    assert!(env.wait_done(1200, Duration::from_secs(30)).await);
    worker.shutdown().await;
    let length = xlen(&env, "event_stream").await;
    assert!(length <= 200, "{length} entries kept with a cap of 100");
    let page = admin
        .events_after("default", EventStart::After(first), 10)
        .await
        .unwrap();
    assert!(page.missed);
    let mut resumed = std::pin::pin!(client.events_from("default", EventStart::After(first)));
    let err = resumed.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        resumed.next().await.unwrap().is_ok(),
        "goes on from the oldest kept"
    );

    // Off deletes the stream; nothing more is written.
    admin.set_event_stream("default", None).await.unwrap();
    assert!(!exists(&env, "event_stream").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_answers_whether_a_job_ran_on_a_day() {
    let env = test_redis("history-search").await;
    let client = env.client();
    let admin = client.admin();
    admin
        .set_history("default", Some(10_000), None)
        .await
        .unwrap();
    let mut tagged = HashSet::new();
    for n in 0..30 {
        let id = client
            .job(env.test_job())
            .tags([format!("customer:{}", n % 3), "import:2026-12".to_owned()])
            .enqueue()
            .await
            .unwrap();
        if n % 3 == 1 {
            tagged.insert(id);
        }
    }
    let (flaky, doomed) = enqueue_flaky_and_doomed(&env).await;
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers = [
        WorkerProcess::start(WORKER, &spec),
        WorkerProcess::start(WORKER, &spec),
    ];
    assert!(env.wait_done(31, Duration::from_secs(20)).await);
    assert!(
        eventually(Duration::from_secs(10), || async {
            xlen(&env, "history").await == 32
        })
        .await
    );
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(10)));
    }
    let today = Utc::now().date_naive();
    let search = |filter: HistoryFilter| {
        let admin = admin.clone();
        async move {
            admin
                .history_search("default", today, &filter, None, 1000)
                .await
                .unwrap()
        }
    };
    let by_tag = search(HistoryFilter {
        tag: Some("customer:1".into()),
        ..HistoryFilter::default()
    })
    .await;
    let found: HashSet<Uuid> = by_tag
        .entries
        .iter()
        .map(|e| e.job_id.parse().unwrap())
        .collect();
    assert_eq!(found, tagged);
    assert!(by_tag.entries.iter().all(|e| e.outcome == "succeeded"
        && e.attempts == 1
        && e.tags == ["customer:1", "import:2026-12"]));

    let retried = search(HistoryFilter {
        job_id: Some(flaky.to_string()[..30].to_owned()),
        ..HistoryFilter::default()
    })
    .await;
    assert_eq!(retried.entries.len(), 1);
    assert_eq!(retried.entries[0].attempts, 2);
    assert!(retried.entries[0].enqueued_at <= retried.entries[0].finished_at);

    let dead = search(HistoryFilter {
        outcome: Some("dead".into()),
        ..HistoryFilter::default()
    })
    .await;
    assert_eq!(dead.entries.len(), 1);
    let entry = &dead.entries[0];
    assert_eq!(entry.job_id, doomed.to_string());
    assert_eq!(entry.error.as_deref(), Some("this job can never succeed"));
    assert!(entry.error_fingerprint.is_some());
    assert_eq!(entry.job_type, "test_job");

    // Another day holds nothing; a small budget pages with a cursor.
    let yesterday = today.pred_opt().unwrap();
    let none = admin
        .history_search("default", yesterday, &HistoryFilter::default(), None, 1000)
        .await
        .unwrap();
    assert!(none.entries.is_empty() && none.next_cursor.is_none());
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut seen = 0;
    loop {
        let page = admin
            .history_search(
                "default",
                today,
                &HistoryFilter::default(),
                cursor.as_deref(),
                5,
            )
            .await
            .unwrap();
        assert!(page.scanned <= 5);
        seen += page.entries.len();
        pages += 1;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, 32);
    assert!(pages >= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exporter_sees_every_entry_before_it_is_trimmed_and_a_loss_is_counted() {
    let env = test_redis("history-export").await;
    let client = env.client();
    let admin = client.admin();
    admin
        .set_history("default", Some(100), Some(400))
        .await
        .unwrap();
    let registered = admin.history_export_register("default").await.unwrap();
    assert_eq!(registered.cursor, "0-0");
    let worker = test_worker(&env).concurrency(8).start().await.unwrap();
    let run = |n: usize| {
        let client = client.clone();
        let env = &env;
        async move {
            let before = env.done_count().await as usize;
            client
                .enqueue_bulk((0..n).map(|_| env.test_job()))
                .await
                .unwrap();
            assert!(env.wait_done(before + n, Duration::from_secs(30)).await);
        }
    };
    // 300 jobs with the exporter not writing: nothing unwritten is trimmed.
    run(300).await;
    // The last acknowledgements (which append the entries) may still be in
    // the worker's batch when the jobs' own traces are all in.
    assert!(
        jobqueue_testing::eventually(Duration::from_secs(10), || async {
            xlen(&env, "history").await >= 300
        })
        .await
    );
    assert_eq!(xlen(&env, "history").await, 300);
    // It writes them all; the next appends trim back to about the cap.
    let mut written = Vec::new();
    let mut cursor = None;
    loop {
        let page = admin
            .history_after("default", cursor.as_deref(), 128)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(last.entry_id.clone());
        admin
            .history_export_commit("default", &last.entry_id, page.len() as u64)
            .await
            .unwrap();
        written.extend(page.into_iter().map(|e| e.job_id));
    }
    assert_eq!(written.len(), 300);
    assert_eq!(written.iter().collect::<HashSet<_>>().len(), 300);
    run(20).await;
    assert!(xlen(&env, "history").await <= 200);
    let status = admin.history_status("default").await.unwrap();
    assert_eq!(status.unexported, Some(20));
    assert_eq!(status.settings.history_lost, 0);
    // A commit that goes back is ignored.
    let back = admin
        .history_export_commit("default", "1-0", 5)
        .await
        .unwrap();
    assert_eq!(Some(back.cursor), cursor);

    // The exporter stops writing: past the hard cap of 400 the oldest go,
    // and every one of them is counted as lost.
    run(600).await;
    worker.shutdown().await;
    let status = admin.history_status("default").await.unwrap();
    assert!(status.kept <= 400, "{} kept", status.kept);
    assert!(status.settings.history_lost > 0);
    assert_eq!(
        status.settings.history_lost + status.kept,
        620,
        "every unwritten entry is kept or counted lost"
    );
    assert_eq!(status.settings.history_added, 920);
}
