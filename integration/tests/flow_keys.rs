//! Keyed flow control across workers (several `Worker`s in this process,
//! each with its own id, leases and connections, as separate processes
//! would have): per-key serialization in FIFO order, no head-of-line
//! blocking, per-key and per-type limits, crash recovery, plain jobs
//! untouched.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use jobqueue_core::{Job, JobContext, JobError, KeyLimits, RateLimit};
use jobqueue_integration::locate::locate_jobs;
use jobqueue_integration::{TestJobTraces, test_redis};
use jobqueue_testing::{TestRedis, eventually};
use jobqueue_worker::{RunningWorker, Worker};
use serde::{Deserialize, Serialize};

/// One run of a [`FlowJob`].
#[derive(Debug, Clone)]
struct Run {
    key: String,
    seq: u32,
    attempt: u32,
    start: Instant,
    end: Instant,
}

/// Runs by test tag (tests in this binary run side by side).
static RUNS: LazyLock<Mutex<HashMap<String, Vec<Run>>>> = LazyLock::new(Default::default);

/// A job that records when it ran; keyed by `key` unless it is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FlowJob {
    tag: String,
    key: String,
    seq: u32,
    hold_ms: u64,
    fail_first: bool,
}

impl Job for FlowJob {
    const NAME: &'static str = "flow_job";

    fn retry_delay(_retry: u32) -> Duration {
        Duration::from_millis(10)
    }

    fn flow_key(&self) -> Option<String> {
        (!self.key.is_empty()).then(|| self.key.clone())
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(self.hold_ms)).await;
        let run = Run {
            key: self.key.clone(),
            seq: self.seq,
            attempt: ctx.attempt(),
            start,
            end: Instant::now(),
        };
        RUNS.lock()
            .expect("runs")
            .entry(self.tag.clone())
            .or_default()
            .push(run);
        if self.fail_first && ctx.attempt() == 1 {
            return Err(JobError::retry("first attempt fails"));
        }
        Ok(())
    }
}

fn job(tag: &str, key: &str, seq: u32, hold_ms: u64) -> FlowJob {
    FlowJob {
        tag: tag.to_owned(),
        key: key.to_owned(),
        seq,
        hold_ms,
        fail_first: false,
    }
}

fn runs(tag: &str) -> Vec<Run> {
    RUNS.lock()
        .expect("runs")
        .get(tag)
        .cloned()
        .unwrap_or_default()
}

async fn start_workers(env: &TestRedis, n: usize) -> Vec<RunningWorker> {
    let mut workers = Vec::new();
    for _ in 0..n {
        workers.push(
            Worker::builder(env.client())
                .register::<FlowJob>()
                .concurrency(4)
                .lease(Duration::from_millis(900))
                .idle_poll_interval(Duration::from_millis(250))
                .shutdown_grace(Duration::from_secs(5))
                .start()
                .await
                .expect("worker starts"),
        );
    }
    workers
}

async fn stop(workers: Vec<RunningWorker>) {
    for worker in workers {
        worker.shutdown().await;
    }
}

async fn wait_runs(tag: &str, n: usize) -> bool {
    eventually(Duration::from_secs(30), || async { runs(tag).len() >= n }).await
}

/// Runs of one key never overlap, and start in FIFO order (by `seq`).
fn assert_serial_fifo(all: &[Run], key: &str) {
    let mut of_key: Vec<&Run> = all.iter().filter(|r| r.key == key).collect();
    of_key.sort_by_key(|r| r.start);
    for pair in of_key.windows(2) {
        assert!(
            pair[1].start >= pair[0].end,
            "two jobs of {key} overlapped: seq {} and {}",
            pair[0].seq,
            pair[1].seq
        );
    }
    let order: Vec<u32> = of_key.iter().map(|r| r.seq).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "{key} ran out of order");
}

/// Flow-key bookkeeping is empty once everything ran.
async fn assert_no_keyed_leftovers(env: &TestRedis, queue: &str) {
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(5), || async {
            admin
                .flow_keys(queue, 100)
                .await
                .expect("flow_keys")
                .is_empty()
        })
        .await,
        "keys left: {:?}",
        admin.flow_keys(queue, 100).await
    );
    assert_eq!(admin.queue(queue).await.expect("queue").keyed, 0);
    let placed = locate_jobs(env, queue).await;
    assert!(placed.is_empty(), "jobs left behind: {placed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_key_runs_one_job_at_a_time_in_fifo_order_across_three_workers() {
    let env = test_redis("flow-serial").await;
    let tag = env.prefix().to_owned();
    let keys = ["account:1", "account:2", "account:3"];
    let jobs: Vec<FlowJob> = (0..8)
        .flat_map(|seq| keys.map(|key| job(&tag, key, seq, 30)))
        .collect();
    env.client().enqueue_bulk(jobs).await.unwrap();
    let workers = start_workers(&env, 3).await;
    assert!(wait_runs(&tag, 24).await, "only {} ran", runs(&tag).len());
    stop(workers).await;
    let all = runs(&tag);
    assert_eq!(all.len(), 24, "a job ran twice");
    for key in keys {
        assert_serial_fifo(&all, key);
    }
    // Different keys did run side by side.
    let overlapping = all.iter().any(|a| {
        all.iter()
            .any(|b| a.key != b.key && a.start < b.end && b.start < a.end)
    });
    assert!(overlapping, "keys were serialized against each other");
    assert_no_keyed_leftovers(&env, "default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_key_holds_up_neither_other_keys_nor_plain_jobs() {
    let env = test_redis("flow-no-hol").await;
    let tag = env.prefix().to_owned();
    // The busy key's jobs come first in the queue.
    let mut jobs: Vec<FlowJob> = (0..4)
        .map(|seq| job(&tag, "account:slow", seq, 400))
        .collect();
    jobs.extend((0..10).map(|seq| job(&tag, &format!("account:{seq}"), seq, 10)));
    jobs.extend((0..10).map(|seq| job(&tag, "", seq, 10)));
    env.client().enqueue_bulk(jobs).await.unwrap();
    let workers = start_workers(&env, 2).await;
    assert!(wait_runs(&tag, 24).await, "only {} ran", runs(&tag).len());
    stop(workers).await;
    let all = runs(&tag);
    assert_serial_fifo(&all, "account:slow");
    let second_slow = all
        .iter()
        .find(|r| r.key == "account:slow" && r.seq == 1)
        .expect("second slow job ran");
    let others_done = all
        .iter()
        .filter(|r| r.key != "account:slow")
        .map(|r| r.end)
        .max()
        .expect("other jobs ran");
    assert!(
        others_done < second_slow.end,
        "other keys and plain jobs waited behind the busy key"
    );
    assert_no_keyed_leftovers(&env, "default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_per_key_rate_limit_holds_across_workers_per_key() {
    let env = test_redis("flow-rate").await;
    let tag = env.prefix().to_owned();
    env.client()
        .admin()
        .set_key_limits(
            "default",
            "customer",
            KeyLimits {
                max_running: None,
                rate: Some(RateLimit::bucket(5, Duration::from_secs(1))),
            },
        )
        .await
        .unwrap();
    let workers = start_workers(&env, 3).await;
    let began = Instant::now();
    let jobs: Vec<FlowJob> = (0..15)
        .flat_map(|seq| ["customer:a", "customer:b"].map(|key| job(&tag, key, seq, 1)))
        .collect();
    env.client().enqueue_bulk(jobs).await.unwrap();
    assert!(wait_runs(&tag, 30).await, "only {} ran", runs(&tag).len());
    stop(workers).await;
    let all = runs(&tag);
    assert!(all.iter().all(|r| r.attempt == 1), "a held job was charged");
    for key in ["customer:a", "customer:b"] {
        let mut starts: Vec<Instant> = all
            .iter()
            .filter(|r| r.key == key)
            .map(|r| r.start)
            .collect();
        starts.sort_unstable();
        assert_eq!(starts.len(), 15);
        // A burst of 5, then 5 per second: 15 jobs take at least 2 s.
        let span = starts[14] - began;
        assert!(
            span >= Duration::from_millis(1800),
            "{key}: 15 jobs in {span:?} at 5/s"
        );
        // Each key has its own bucket: no key waited for the other's (one
        // shared bucket would need 5 s for the 30 jobs).
        assert!(
            span < Duration::from_millis(4000),
            "{key}: 15 jobs took {span:?}"
        );
        for (i, &t) in starts.iter().enumerate() {
            let in_window = starts[i..]
                .iter()
                .filter(|&&s| s < t + Duration::from_secs(1))
                .count();
            assert!(in_window <= 10, "{key}: {in_window} starts in one second");
        }
    }
    assert_no_keyed_leftovers(&env, "default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_type_limit_is_a_key_class() {
    let env = test_redis("flow-type").await;
    let tag = env.prefix().to_owned();
    let admin = env.client().admin();
    let limits = KeyLimits {
        max_running: Some(2),
        rate: None,
    };
    admin
        .set_key_limits("default", "type", limits)
        .await
        .unwrap();
    let listed = admin.key_limits("default").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].class.as_str(), listed[0].limits),
        ("type", limits)
    );
    let type_key = format!("type:{}", FlowJob::NAME);
    for seq in 0..12 {
        env.client()
            .job(job(&tag, "", seq, 100))
            .flow_key(&type_key)
            .enqueue()
            .await
            .unwrap();
    }
    assert_eq!(admin.queue("default").await.unwrap().keyed, 12);
    let keys = admin.flow_keys("default", 10).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].waiting, keys[0].running, keys[0].limits),
        (12, 0, limits)
    );
    let workers = start_workers(&env, 3).await;
    assert!(wait_runs(&tag, 12).await, "only {} ran", runs(&tag).len());
    stop(workers).await;
    let all = runs(&tag);
    let mut most = 0;
    for a in &all {
        let at_once = all
            .iter()
            .filter(|b| b.start <= a.start && a.start < b.end)
            .count();
        most = most.max(at_once);
    }
    assert_eq!(most, 2, "the type's limit is 2 running at once");
    assert_no_keyed_leftovers(&env, "default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_workers_keyed_jobs_come_back_and_the_counts_stay_right() {
    let env = test_redis("flow-crash").await;
    let tag = env.prefix().to_owned();
    let client = env.client();
    let store = client.store();
    let q = store.queue_keys("default").unwrap();
    let jobs: Vec<FlowJob> = (0..5)
        .flat_map(|seq| ["account:1", "account:2"].map(|key| job(&tag, key, seq, 20)))
        .collect();
    env.client().enqueue_bulk(jobs).await.unwrap();
    // A worker leases the head of both keys, then dies without a word.
    let dead = "crashed-worker";
    store
        .heartbeat(&q, dead, Duration::from_millis(300))
        .await
        .unwrap();
    let mut workers_seen = Vec::new();
    let reply = store
        .fetch_limited(
            &q,
            &q.active(dead),
            dead,
            10,
            Duration::from_millis(50),
            &mut workers_seen,
        )
        .await
        .unwrap();
    assert_eq!(
        reply.records.len(),
        2,
        "one job per key (each runs one at a time)"
    );
    let keys = env.client().admin().flow_keys("default", 10).await.unwrap();
    assert!(
        keys.iter().all(|k| k.running == 1 && k.waiting == 4),
        "{keys:?}"
    );
    // Nothing else of those keys may start while the dead worker holds them.
    let again = store
        .fetch_limited(
            &q,
            &q.active("other"),
            "other",
            10,
            Duration::from_millis(50),
            &mut workers_seen,
        )
        .await;
    assert!(again.map(|r| r.records.is_empty()).unwrap_or(true));

    // A failed attempt comes back through the retry set into its key, too.
    let mut failing = job(&tag, "account:3", 0, 1);
    failing.fail_first = true;
    env.client().enqueue(failing).await.unwrap();
    env.client()
        .enqueue(job(&tag, "account:3", 1, 1))
        .await
        .unwrap();

    let workers = start_workers(&env, 2).await;
    assert!(
        wait_runs(&tag, 13).await,
        "only {} ran: {:?}",
        runs(&tag).len(),
        runs(&tag)
    );
    stop(workers).await;
    let all = runs(&tag);
    for key in ["account:1", "account:2"] {
        assert_serial_fifo(&all, key);
        let first = all
            .iter()
            .find(|r| r.key == key && r.seq == 0)
            .expect("ran");
        assert_eq!(
            first.attempt, 2,
            "the reclaimed job counts the lost attempt"
        );
    }
    assert_eq!(
        all.iter().filter(|r| r.key == "account:3").count(),
        3,
        "account:3: a failed and a retried run, then the next job"
    );
    assert_no_keyed_leftovers(&env, "default").await;
    let running: HashMap<String, i64> = redis::cmd("HGETALL")
        .arg(q.flow_running())
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    assert!(running.is_empty(), "running counts left: {running:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiting_keyed_jobs_are_visible_to_the_operator_and_cancellable() {
    let env = test_redis("flow-operator").await;
    let tag = env.prefix().to_owned();
    let admin = env.client().admin();
    let first = env
        .client()
        .enqueue(job(&tag, "account:9", 0, 1))
        .await
        .unwrap();
    let second = env
        .client()
        .enqueue(job(&tag, "account:9", 1, 1))
        .await
        .unwrap();
    let placed = locate_jobs(&env, "default").await;
    assert_eq!(
        placed.get(&first.to_string()),
        Some(&vec!["keyed".to_owned()])
    );
    assert_eq!(placed.len(), 2);
    let listed = admin
        .list_flow_key("default", "account:9", 0, 10)
        .await
        .unwrap();
    let ids: Vec<_> = listed.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![first, second]);
    let found = admin.find_job(second).await.unwrap().expect("found by id");
    assert_eq!(found.state, jobqueue_core::JobState::Ready);
    assert!(matches!(
        admin.cancel("default", first).await.unwrap(),
        jobqueue_core::CancelOutcome::Cancelled { .. }
    ));
    assert_eq!(
        admin.find_job(first).await.unwrap().map(|job| job.state),
        Some(jobqueue_core::JobState::Cancelled),
        "a cancelled keyed job is found in the cancelled set"
    );
    assert_eq!(admin.delete_keyed("default", &[second]).await.unwrap(), 1);
    assert!(locate_jobs(&env, "default").await.is_empty());
    // Purge drops keyed jobs with the ready list, in bounded batches.
    let many: Vec<FlowJob> = (0..1500)
        .map(|seq| job(&tag, &format!("account:{}", seq % 3), seq, 1))
        .chain((0..5).map(|seq| job(&tag, "", seq, 1)))
        .collect();
    env.client().enqueue_bulk(many).await.unwrap();
    assert_eq!(admin.purge("default").await.unwrap(), 1505);
    assert!(locate_jobs(&env, "default").await.is_empty());
    let jobs_left: u64 = redis::cmd("HLEN")
        .arg(env.client().store().queue_keys("default").unwrap().jobs())
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    // Only the cancelled job's record (kept in the cancelled set) is left.
    assert_eq!(jobs_left, 1, "purged records left in the jobs hash");
    assert_no_keyed_leftovers(&env, "default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plain_queues_pay_nothing_for_flow_keys() {
    let env = test_redis("flow-plain").await;
    let tag = env.prefix().to_owned();
    env.client()
        .enqueue_bulk((0..10).map(|seq| job(&tag, "", seq, 1)))
        .await
        .unwrap();
    let q = env.client().store().queue_keys("default").unwrap();
    assert!(!env.client().store().has_keyed_jobs(&q).await.unwrap());
    let workers = start_workers(&env, 2).await;
    assert!(wait_runs(&tag, 10).await);
    stop(workers).await;
    let flow_keys: Vec<String> = env
        .keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| {
            k.contains(":g:")
                || k.ends_with(":gready")
                || k.ends_with(":grun")
                || k.ends_with(":gwaiting")
                || k.ends_with(":flow")
        })
        .collect();
    assert!(
        flow_keys.is_empty(),
        "flow state written for plain jobs: {flow_keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_shows_key_classes_keys_and_their_jobs() {
    use jobqueue_integration::dashboard::{As, Dashboard, operator_config};
    let env = test_redis("flow-api").await;
    let tag = env.prefix().to_owned();
    env.client()
        .admin()
        .set_key_limits(
            "default",
            "customer",
            KeyLimits {
                max_running: Some(3),
                rate: Some(RateLimit::bucket(10, Duration::from_secs(1))),
            },
        )
        .await
        .unwrap();
    let first = env
        .client()
        .enqueue(job(&tag, "customer:7", 0, 1))
        .await
        .unwrap();
    env.client()
        .enqueue(job(&tag, "customer:7", 1, 1))
        .await
        .unwrap();
    env.client()
        .enqueue(job(&tag, "account:1", 0, 1))
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let reply = dash.get("/api/v1/queues/default/keys", As::Reader).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let doc = reply.json();
    assert_eq!(doc["default_limits"]["max_running"], 1);
    assert_eq!(doc["classes"][0]["class"], "customer");
    assert_eq!(doc["classes"][0]["limits"]["rate_limit"], 10);
    assert_eq!(doc["classes"][0]["limits"]["rate_per_ms"], 1000);
    let keys = doc["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2, "{doc}");
    let customer = keys
        .iter()
        .find(|k| k["key"] == "customer:7")
        .expect("customer:7");
    assert_eq!(
        (customer["waiting"].as_u64(), customer["running"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(customer["limits"]["max_running"], 3);
    let jobs = dash
        .get(
            "/api/v1/queues/default/keys/customer:7/jobs?limit=1",
            As::Reader,
        )
        .await
        .json();
    assert_eq!(jobs.as_array().map(Vec::len), Some(1));
    assert_eq!(jobs[0]["id"], first.to_string());
    assert_eq!(jobs[0]["state"], "ready");
    assert_eq!(jobs[0]["flow_key"], "customer:7");
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    for path in [
        "/api/v1/queues/{queue}/keys",
        "/api/v1/queues/{queue}/keys/{key}/jobs",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
    // The dashboard page: linked from the queue, classes and keys shown.
    let queue_page = dash.get("/queues/default/jobs/ready", As::Reader).await;
    assert!(
        queue_page.body.contains("id=\"queue-keys\"")
            && queue_page.body.contains("3 keyed jobs waiting"),
        "{}",
        queue_page.body
    );
    let page = dash.get("/queues/default/keys", As::Reader).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for expected in [
        "<code>customer</code>",
        "10 per 1s",
        "<code>customer:7</code>",
        "<code>account:1</code>",
        "3 keyed jobs waiting",
    ] {
        assert!(
            page.body.contains(expected),
            "{expected} not in {}",
            page.body
        );
    }
    assert_eq!(
        dash.get("/queues/no-such-queue/keys", As::Reader)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inline_worker_runs_keyed_jobs_in_key_order() {
    let env = test_redis("flow-inline").await;
    let tag = env.prefix().to_owned();
    let mut ids = Vec::new();
    for seq in 0..3 {
        ids.push(
            env.client()
                .enqueue(job(&tag, "account:5", seq, 1))
                .await
                .unwrap(),
        );
    }
    let plain = env.client().enqueue(job(&tag, "", 9, 1)).await.unwrap();
    let report = env.drain(env.worker().register::<FlowJob>()).await.unwrap();
    let ran = &report.runs;
    assert!(ran.iter().all(|run| run.succeeded()), "{ran:?}");
    let keyed: Vec<_> = ran
        .iter()
        .filter_map(|run| run.id)
        .filter(|id| *id != plain)
        .collect();
    assert_eq!(keyed, ids, "keyed jobs in FIFO order");
    assert_eq!(ran.len(), 4, "the plain job ran too: {ran:?}");
    assert_no_keyed_leftovers(&env, "default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_expiring_or_burying_a_keyed_job_frees_its_key() {
    let env = test_redis("flow-cancel-expire").await;
    let tag = env.prefix().to_owned();
    let workers = start_workers(&env, 2).await;
    // A long job of the key, cancelled while it runs: the next job of the
    // key starts long before the long one would have ended.
    let long = env
        .client()
        .enqueue(job(&tag, "account:1", 0, 5000))
        .await
        .unwrap();
    env.client()
        .enqueue(job(&tag, "account:1", 1, 1))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            env.client()
                .admin()
                .flow_keys("default", 10)
                .await
                .unwrap()
                .iter()
                .any(|k| k.running == 1)
        })
        .await
    );
    let cancelled_at = Instant::now();
    assert!(matches!(
        env.client().cancel("default", long).await.unwrap(),
        jobqueue_core::CancelOutcome::Cancelled {
            from: jobqueue_core::CancelledFrom::Active
        }
    ));
    assert!(wait_runs(&tag, 1).await);
    let next = runs(&tag)
        .into_iter()
        .find(|r| r.seq == 1)
        .expect("the next job ran");
    assert!(
        next.start - cancelled_at < Duration::from_secs(3),
        "the key stayed held after the cancel"
    );

    // A job that expires while it waits behind its key is dropped when its
    // turn comes, and the key moves on.
    env.client()
        .enqueue(job(&tag, "account:2", 0, 400))
        .await
        .unwrap();
    env.client()
        .job(job(&tag, "account:2", 1, 1))
        .expires_in(Duration::from_millis(100))
        .enqueue()
        .await
        .unwrap();
    env.client()
        .enqueue(job(&tag, "account:2", 2, 1))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            runs(&tag)
                .iter()
                .any(|r| r.key == "account:2" && r.seq == 2)
        })
        .await
    );
    assert!(
        !runs(&tag)
            .iter()
            .any(|r| r.key == "account:2" && r.seq == 1),
        "an expired job ran"
    );
    assert_eq!(
        env.client().admin().expired_count("default").await.unwrap(),
        1
    );

    // A job that dies frees its key as well.
    let mut doomed = job(&tag, "account:3", 0, 1);
    doomed.fail_first = true;
    let doomed = env
        .client()
        .job(doomed)
        .max_attempts(1)
        .enqueue()
        .await
        .unwrap();
    env.client()
        .enqueue(job(&tag, "account:3", 1, 1))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            runs(&tag)
                .iter()
                .any(|r| r.key == "account:3" && r.seq == 1)
        })
        .await,
        "the key stayed held after its job died"
    );
    assert_eq!(env.client().admin().queue("default").await.unwrap().dead, 1);
    let dead = jobqueue_core::JobSet::Dead;
    let deleted = env
        .client()
        .admin()
        .delete("default", dead, &[doomed])
        .await;
    assert_eq!(deleted.unwrap(), 1);
    stop(workers).await;
    assert_no_keyed_leftovers(&env, "default").await;
}

/// The keyed listing skips running keys with nothing waiting before it cuts
/// at 1000 keys: a thousand busy keys with empty lists do not hide the
/// jobs of a ready key behind them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_keys_with_empty_lists_do_not_hide_waiting_jobs() {
    let env = test_redis("flow-keys-crowd").await;
    let waiting = env
        .client()
        .job(env.test_job())
        .flow_key("customer:waiting")
        .enqueue()
        .await
        .unwrap();
    // 1200 keys each running a job, none with anything waiting (as
    // workers leave them while they run).
    let keys = env.client().store().queue_keys("default").unwrap();
    let mut pipe = redis::pipe();
    for n in 0..1200 {
        pipe.hset(keys.flow_running(), format!("account:{n:04}"), 1)
            .ignore();
    }
    let _: () = pipe
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    let page = env
        .client()
        .admin()
        .browse(
            "default",
            jobqueue_core::BrowseState::Keyed,
            &jobqueue_core::JobFilter::default(),
            0,
            50,
        )
        .await
        .unwrap();
    let ids: Vec<_> = page.jobs.iter().map(|job| job.id).collect();
    assert_eq!(ids, [waiting]);
    assert_eq!(page.total, 1);
}
