//! Limited queues run at their limit, across worker processes: a slot freed
//! by a job ending in one process is taken by a waiting worker at once (a
//! `w` wake-up, or `r` for a flow key), not at the next recheck; and a
//! strict rate limit never lets more than `limit` jobs start in any window
//! of its period.
//!
//! The workers' fallback recheck is made long (2 s, `JQ_LIMIT_RECHECK_MS`),
//! so only a wake-up can explain a gap of a few ms between one job's end and
//! the next one's start.

use std::time::Duration;

use jobqueue_core::{KeyLimits, QueueLimits, RateLimit};
use jobqueue_integration::probe::{ProbeJob, ProbeStart, probe_starts};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis};
use jobqueue_testing::{TestRedis, eventually};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

/// How long each job of the wake-up tests runs.
const HOLD_MS: u64 = 100;

/// How long the key-class test's jobs run: not a multiple of the 100 ms
/// a fetch that finds only keys waiting for tokens asks to wait, so that
/// wait never happens to end just as a slot frees.
const CLASS_HOLD_MS: u64 = 130;

/// Three worker processes whose recheck at a limit is 2 s.
fn start_workers(env: &TestRedis) -> Vec<WorkerProcess> {
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.env
        .push(("JQ_LIMIT_RECHECK_MS".to_owned(), "2000".to_owned()));
    (0..3)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect()
}

fn stop(workers: Vec<WorkerProcess>) {
    for worker in &workers {
        worker.terminate();
    }
    for worker in workers {
        assert!(worker.wait(Duration::from_secs(15)));
    }
}

async fn wait_for_starts(env: &TestRedis, key: &str, n: usize) -> Vec<ProbeStart> {
    assert!(
        eventually(Duration::from_secs(60), || async {
            probe_starts(env.url(), key).await.len() >= n
        })
        .await,
        "only {} of {n} jobs started",
        probe_starts(env.url(), key).await.len()
    );
    probe_starts(env.url(), key).await
}

/// The idle time between one job's end (its start + `HOLD_MS`) and the
/// next start, for jobs that ran one after another; sorted.
fn gaps_ms(starts: &[ProbeStart]) -> Vec<i64> {
    let mut times: Vec<i64> = starts.iter().map(|s| s.started_ms).collect();
    times.sort_unstable();
    let mut gaps: Vec<i64> = times
        .windows(2)
        .map(|w| w[1] - w[0] - HOLD_MS as i64)
        .collect();
    gaps.sort_unstable();
    gaps
}

/// The jobs of one limited slot ran back to back: the median gap is a few
/// ms and none waited for the 2 s recheck.
fn assert_back_to_back(starts: &[ProbeStart], what: &str) {
    let gaps = gaps_ms(starts);
    let median = gaps[gaps.len() / 2];
    let worst = gaps[gaps.len() - 1];
    assert!(
        gaps[0] >= -2,
        "{what}: two jobs ran at once (gaps {gaps:?})"
    );
    assert!(
        median <= 15 && worst < 1000,
        "{what}: a freed slot waited (median gap {median} ms, worst {worst} ms: {gaps:?})"
    );
}

fn probes(env: &TestRedis, key: &str, n: usize, hold_ms: u64) -> Vec<ProbeJob> {
    (0..n)
        .map(|_| ProbeJob {
            hold_ms,
            ..ProbeJob::new(env.url(), key)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_freed_in_one_process_is_taken_at_once_by_another() {
    let env = test_redis("limit-wake-running").await;
    let key = format!("{}:probe", env.prefix());
    env.client()
        .admin()
        .set_queue_limits(
            "default",
            QueueLimits {
                max_running: Some(1),
                rate: None,
            },
        )
        .await
        .unwrap();
    let workers = start_workers(&env);
    env.client()
        .enqueue_bulk(probes(&env, &key, 12, HOLD_MS))
        .await
        .unwrap();
    let starts = wait_for_starts(&env, &key, 12).await;
    stop(workers);
    assert_back_to_back(&starts, "running limit 1");
}

/// Enqueues two jobs under the key `rated:1`, whose class allows one start
/// an hour: the second waits for a token all test long, so fetches that
/// find the keys under test busy are told to ask again only later (only a
/// wake-up brings them back before that). Returns the probe key of those
/// two jobs.
async fn keep_a_key_waiting_for_a_token(env: &TestRedis) -> String {
    let hourly = RateLimit::bucket(1, Duration::from_secs(3600));
    let limits = KeyLimits {
        max_running: None,
        rate: Some(hourly),
    };
    let admin = env.client().admin();
    admin
        .set_key_limits("default", "rated", limits)
        .await
        .unwrap();
    let rated = format!("{}:rated", env.prefix());
    for _ in 0..2 {
        let job = ProbeJob::new(env.url(), &rated);
        env.client()
            .job(job)
            .flow_key("rated:1")
            .enqueue()
            .await
            .unwrap();
    }
    rated
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serialized_flow_key_runs_its_jobs_back_to_back() {
    let env = test_redis("limit-wake-key").await;
    let key = format!("{}:probe", env.prefix());
    // Another class's key waits for a token meanwhile.
    let rated = keep_a_key_waiting_for_a_token(&env).await;
    let workers = start_workers(&env);
    for job in probes(&env, &key, 10, HOLD_MS) {
        env.client()
            .job(job)
            .flow_key("account:7")
            .enqueue()
            .await
            .unwrap();
    }
    let starts = wait_for_starts(&env, &key, 10).await;
    stop(workers);
    assert_back_to_back(&starts, "serialized key");
    assert_eq!(probe_starts(env.url(), &rated).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_class_running_limit_is_refilled_at_once() {
    let env = test_redis("limit-wake-class").await;
    let key = format!("{}:probe", env.prefix());
    let admin = env.client().admin();
    admin
        .set_key_limits(
            "default",
            "pdf",
            KeyLimits {
                max_running: Some(2),
                rate: None,
            },
        )
        .await
        .unwrap();
    let rated = keep_a_key_waiting_for_a_token(&env).await;
    let workers = start_workers(&env);
    for job in probes(&env, &key, 16, CLASS_HOLD_MS) {
        env.client()
            .job(job)
            .flow_key("pdf:render")
            .enqueue()
            .await
            .unwrap();
    }
    let starts = wait_for_starts(&env, &key, 16).await;
    stop(workers);
    assert_eq!(probe_starts(env.url(), &rated).await.len(), 1);
    // Two slots: the i-th and (i+2)-th starts are one slot's consecutive jobs.
    let mut times: Vec<i64> = starts.iter().map(|s| s.started_ms).collect();
    times.sort_unstable();
    let mut gaps: Vec<i64> = times
        .windows(3)
        .map(|w| w[2] - w[0] - CLASS_HOLD_MS as i64)
        .collect();
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    assert!(
        gaps[0] >= -2,
        "three jobs of a class limited to 2 ran at once: {gaps:?}"
    );
    assert!(
        median <= 15 && gaps[gaps.len() - 1] < 1000,
        "a freed key slot waited: {gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_rate_limit_never_lets_more_than_limit_start_in_any_window() {
    let env = test_redis("limit-strict").await;
    let key = format!("{}:probe", env.prefix());
    let admin = env.client().admin();
    let limits = QueueLimits {
        max_running: None,
        rate: Some(RateLimit::strict(5, Duration::from_secs(1))),
    };
    admin.set_queue_limits("default", limits).await.unwrap();
    assert_eq!(admin.queue_limits("default").await.unwrap(), limits);
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers: Vec<WorkerProcess> = (0..3)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    env.client()
        .enqueue_bulk((0..20).map(|_| ProbeJob::new(env.url(), &key)))
        .await
        .unwrap();
    let starts = wait_for_starts(&env, &key, 20).await;
    stop(workers);
    assert!(
        starts.iter().all(|s| s.attempt == 1),
        "held back jobs were charged"
    );
    let mut times: Vec<i64> = starts.iter().map(|s| s.started_ms).collect();
    times.sort_unstable();
    // From the jobs' own start times: every window [t, t + 1 s) opening at a
    // start holds at most 5 (the busiest windows open at a start). A token
    // bucket lets 10 through here: a full bucket, then its refill.
    let busiest = (0..times.len())
        .map(|i| times[i..].iter().filter(|&&s| s < times[i] + 1000).count())
        .max()
        .unwrap_or(0);
    assert!(busiest <= 5, "{busiest} starts within 1 s: {times:?}");
    assert_eq!(busiest, 5, "the limit was never used in full: {times:?}");
    // The rate is still the limit: 20 jobs in four windows, not slower.
    let span = times[19] - times[0];
    assert!(
        (3000..4500).contains(&span),
        "20 jobs at 5/s (strict) took {span} ms: {times:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_key_class_rate_holds_per_key() {
    let env = test_redis("limit-strict-key").await;
    let key = format!("{}:probe", env.prefix());
    env.client()
        .admin()
        .set_key_limits(
            "default",
            "api",
            KeyLimits {
                max_running: None,
                rate: Some(RateLimit::strict(3, Duration::from_secs(1))),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        env.client().admin().key_limits("default").await.unwrap()[0]
            .limits
            .rate,
        Some(RateLimit::strict(3, Duration::from_secs(1)))
    );
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers: Vec<WorkerProcess> = (0..2)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    for _ in 0..9 {
        env.client()
            .job(ProbeJob::new(env.url(), &key))
            .flow_key("api:partner")
            .enqueue()
            .await
            .unwrap();
    }
    let starts = wait_for_starts(&env, &key, 9).await;
    stop(workers);
    let mut times: Vec<i64> = starts.iter().map(|s| s.started_ms).collect();
    times.sort_unstable();
    let busiest = (0..times.len())
        .map(|i| times[i..].iter().filter(|&&s| s < times[i] + 1000).count())
        .max()
        .unwrap_or(0);
    assert!(
        busiest <= 3,
        "{busiest} starts of one key within 1 s: {times:?}"
    );
    assert!(
        times[8] - times[0] >= 2000,
        "9 starts at 3/s (strict): {times:?}"
    );
}
