//! Weighted fairness between flow keys, across worker processes: a tenant
//! with a million queued jobs does not starve one that enqueues a single
//! job; weights 3:1 serve two busy keys 3:1; the per-key waits show it.

use std::time::{Duration, Instant};

use jobqueue_core::admin::WAIT_SAMPLES;
use jobqueue_core::{Client, KeyLimits, PreparedJob};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::test_redis;
use jobqueue_integration::traces::trace_len;
use jobqueue_integration::worker_process::{WorkerProcess, WorkerSpec};
use jobqueue_testing::{TestRedis, eventually};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

/// `n` worker processes on `default`, `concurrency` slots each.
fn start_workers(env: &TestRedis, n: usize, concurrency: usize) -> Vec<WorkerProcess> {
    (0..n)
        .map(|_| {
            let mut spec = WorkerSpec::new(env.url(), env.prefix());
            spec.concurrency = concurrency;
            WorkerProcess::start(WORKER, &spec)
        })
        .collect()
}

fn stop(workers: Vec<WorkerProcess>) {
    for worker in &workers {
        worker.terminate();
    }
    for worker in workers {
        assert!(worker.wait(Duration::from_secs(20)), "worker stopped");
    }
}

/// A [`TestJob`] of flow key `key` that records its starts under the
/// trace stem `stem`.
fn tenant_job(
    client: &Client,
    url: &str,
    stem: &str,
    key: &str,
    sleep_ms: u64,
) -> Result<PreparedJob, jobqueue_core::Error> {
    let mut job = TestJob::new(url, stem);
    job.sleep_ms = sleep_ms;
    client.job(job).flow_key(key).prepare()
}

fn trace_stem(env: &TestRedis, key: &str) -> String {
    format!("{}:trace:{key}", env.prefix())
}

/// Starts of `key`'s jobs so far.
async fn starts(env: &TestRedis, key: &str) -> u64 {
    trace_len(env.url(), &format!("{}:started", trace_stem(env, key))).await
}

/// Enqueues `n` jobs of `key`, in bulk calls of 10,000. Preparing a chunk
/// takes longer than sending it in a debug build, so the next two
/// chunks are prepared on blocking threads while one is sent.
async fn enqueue_many(env: &TestRedis, key: &str, n: usize, sleep_ms: u64) {
    const CHUNK: usize = 10_000;
    const PREPARED_AHEAD: usize = 2;
    let client = env.client();
    let prepare = |chunk: usize| {
        let (client, url, stem, key) = (
            client.clone(),
            env.url().to_owned(),
            trace_stem(env, key),
            key.to_owned(),
        );
        tokio::task::spawn_blocking(move || {
            (0..chunk)
                .map(|_| tenant_job(&client, &url, &stem, &key, sleep_ms).expect("a valid job"))
                .collect::<Vec<PreparedJob>>()
        })
    };
    let chunks: Vec<usize> = (0..n)
        .step_by(CHUNK)
        .map(|from| CHUNK.min(n - from))
        .collect();
    let mut ahead = std::collections::VecDeque::new();
    for &chunk in &chunks {
        ahead.push_back(prepare(chunk));
        if ahead.len() > PREPARED_AHEAD {
            let jobs = ahead
                .pop_front()
                .expect("a chunk")
                .await
                .expect("jobs prepared");
            client.enqueue_prepared(jobs).await.expect("bulk enqueue");
        }
    }
    for pending in ahead {
        let jobs = pending.await.expect("jobs prepared");
        client.enqueue_prepared(jobs).await.expect("bulk enqueue");
    }
}

/// Several jobs of one key run at once (the default class limit is one).
async fn unlimited_class(env: &TestRedis, class: &str) {
    env.client()
        .admin()
        .set_key_limits(
            "default",
            class,
            KeyLimits {
                max_running: None,
                rate: None,
            },
        )
        .await
        .expect("set key limits");
}

/// Tenant A has 1,000,000 jobs queued, the pool is busy with them; tenant
/// B's single job starts within twice its fair-share delay. The fair-share
/// delay is one job's duration: the longest a newcomer waits for a slot
/// when the scheduler gives it the next one that frees (every slot is busy
/// with A's jobs, which all take that long). Without fairness B would wait
/// for A's million.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_of_a_quiet_tenant_is_not_starved_by_a_million_of_a_busy_one() {
    const HOLD_MS: u64 = 250;
    const BUSY_JOBS: usize = 1_000_000;
    let env = test_redis("fair-starve").await;
    unlimited_class(&env, "tenant").await;
    let began = Instant::now();
    enqueue_many(&env, "tenant:a", BUSY_JOBS, HOLD_MS).await;
    eprintln!(
        "enqueued {BUSY_JOBS} jobs of tenant:a in {:?}",
        began.elapsed()
    );
    let admin = env.client().admin();
    assert_eq!(
        admin.queue("default").await.expect("queue").keyed,
        BUSY_JOBS as u64
    );

    let workers = start_workers(&env, 2, 4);
    assert!(
        eventually(Duration::from_secs(10), || async {
            starts(&env, "tenant:a").await >= 8
        })
        .await,
        "the pool is busy with tenant:a"
    );
    let client = env.client();
    let fair_share = Duration::from_millis(HOLD_MS);
    for probe in 0..3 {
        let mut job = TestJob::new(env.url(), &trace_stem(&env, "tenant:b"));
        job.due_ms = Some(chrono::Utc::now().timestamp_millis());
        client
            .job(job)
            .flow_key("tenant:b")
            .enqueue()
            .await
            .expect("enqueue B's job");
        assert!(
            eventually(Duration::from_secs(30), || async {
                starts(&env, "tenant:b").await > probe
            })
            .await,
            "tenant:b's job {probe} started at all"
        );
        // Let a few of A's jobs pass before the next probe.
        tokio::time::sleep(fair_share).await;
    }
    let late = lateness(&env, "tenant:b").await;
    assert_eq!(late.len(), 3);
    for (probe, waited_ms) in late.iter().enumerate() {
        assert!(
            *waited_ms <= 2 * HOLD_MS as i64,
            "tenant:b's job {probe} waited {waited_ms} ms behind tenant:a's {BUSY_JOBS} (fair share: {HOLD_MS} ms); all: {late:?}"
        );
    }
    let waits = admin.flow_key_waits("default", 10).await.expect("waits");
    let b = waits
        .keys
        .iter()
        .find(|k| k.key == "tenant:b")
        .expect("tenant:b's starts are sampled");
    assert_eq!(b.starts, 3, "{waits:?}");
    assert!(b.max_ms <= 2 * HOLD_MS, "{waits:?}");
    stop(workers);
}

/// Start time minus due time of `key`'s jobs, in ms.
async fn lateness(env: &TestRedis, key: &str) -> Vec<i64> {
    let mut conn = env.connection().await.expect("connect");
    redis::cmd("LRANGE")
        .arg(format!("{}:lateness", trace_stem(env, key)))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("LRANGE")
}

/// Two always-busy keys with weights 3 and 1 — one from the key's own
/// weight, one from its class's — start jobs 3:1 (within 10 %) across two
/// worker processes whose batches are as small as their free slots, over
/// 8,000 starts; the latest starts' waits are sampled under their keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_three_to_one_serve_two_busy_keys_three_to_one() {
    const JOBS_PER_KEY: usize = 12_000;
    const COUNTED: u64 = 8000;
    let env = test_redis("fair-weights").await;
    unlimited_class(&env, "t").await;
    let admin = env.client().admin();
    admin
        .set_flow_weight("default", "t", 1)
        .await
        .expect("class weight");
    admin
        .set_flow_weight("default", "t:heavy", 3)
        .await
        .expect("key weight");
    let weights = admin.flow_weights("default").await.expect("weights");
    assert_eq!(weights.len(), 2, "{weights:?}");
    enqueue_many(&env, "t:heavy", JOBS_PER_KEY, 2).await;
    enqueue_many(&env, "t:light", JOBS_PER_KEY, 2).await;
    let keys = admin.flow_keys("default", 10).await.expect("keys");
    let weight_of = |name: &str| keys.iter().find(|k| k.key == name).map(|k| k.weight);
    assert_eq!(
        (weight_of("t:heavy"), weight_of("t:light")),
        (Some(3), Some(1))
    );

    let workers = start_workers(&env, 2, 4);
    assert!(
        eventually(Duration::from_secs(60), || async {
            starts(&env, "t:heavy").await + starts(&env, "t:light").await >= COUNTED
        })
        .await,
        "{COUNTED} jobs started"
    );
    pause_and_settle(&env).await;
    let (heavy, light) = (starts(&env, "t:heavy").await, starts(&env, "t:light").await);
    let ratio = heavy as f64 / light.max(1) as f64;
    eprintln!("served {heavy} : {light} = {ratio:.3}");
    assert!(
        light < JOBS_PER_KEY as u64 && heavy < JOBS_PER_KEY as u64,
        "both keys stayed busy throughout"
    );
    assert!(
        (2.7..=3.3).contains(&ratio),
        "weights 3:1 served {heavy}:{light} = {ratio:.3}"
    );

    let waits = admin.flow_key_waits("default", 10).await.expect("waits");
    let wait_of = |name: &str| {
        waits
            .keys
            .iter()
            .find(|k| k.key == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} sampled: {waits:?}"))
    };
    let (heavy_wait, light_wait) = (wait_of("t:heavy"), wait_of("t:light"));
    // The latest starts are sampled (as many as are kept), each under its
    // key, and they too were served 3:1.
    assert_eq!(waits.samples, (heavy + light).min(WAIT_SAMPLES as u64));
    assert_eq!(heavy_wait.starts + light_wait.starts, waits.samples);
    let sampled = heavy_wait.starts as f64 / light_wait.starts.max(1) as f64;
    assert!((2.7..=3.3).contains(&sampled), "{waits:?}");
    for wait in [&heavy_wait, &light_wait] {
        assert!(
            wait.p50_ms <= wait.p99_ms && wait.p99_ms <= wait.max_ms,
            "{wait:?}"
        );
        assert!(
            wait.max_ms < 120_000,
            "waits are milliseconds since ready: {wait:?}"
        );
    }

    // Clearing the key's weight serves the two alike again.
    assert!(
        admin
            .clear_flow_weight("default", "t:heavy")
            .await
            .expect("clear")
    );
    assert!(
        !admin
            .clear_flow_weight("default", "t:heavy")
            .await
            .expect("clear")
    );
    assert!(
        admin
            .clear_flow_weight("default", "t")
            .await
            .expect("clear")
    );
    let mut conn = env.connection().await.expect("connect");
    let credit: u64 = redis::cmd("EXISTS")
        .arg(
            env.client()
                .store()
                .queue_keys("default")
                .expect("queue")
                .flow_credit(),
        )
        .query_async(&mut conn)
        .await
        .expect("EXISTS");
    assert_eq!(credit, 0, "no weights, no credit kept");
    admin.resume("default").await.expect("resume");
    let (heavy0, light0) = (starts(&env, "t:heavy").await, starts(&env, "t:light").await);
    assert!(
        eventually(Duration::from_secs(60), || async {
            starts(&env, "t:heavy").await + starts(&env, "t:light").await >= heavy0 + light0 + 1200
        })
        .await
    );
    pause_and_settle(&env).await;
    let heavy = starts(&env, "t:heavy").await - heavy0;
    let light = starts(&env, "t:light").await - light0;
    let ratio = heavy as f64 / light.max(1) as f64;
    eprintln!("unweighted: served {heavy} : {light} = {ratio:.3}");
    assert!(
        (0.9..=1.11).contains(&ratio),
        "unweighted round-robin served {heavy}:{light}"
    );
    stop(workers);
}

/// Pauses `default` and waits until the jobs leased before the pause ran
/// (each start is sampled at its lease and recorded when it runs).
async fn pause_and_settle(env: &TestRedis) {
    let admin = env.client().admin();
    admin.pause("default").await.expect("pause");
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.expect("queue").active == 0
        })
        .await,
        "the leased jobs ran"
    );
}

#[tokio::test]
async fn bad_weights_are_refused_with_a_clear_error() {
    let env = test_redis("fair-bad").await;
    let admin = env.client().admin();
    for (name, weight) in [("t", 0), ("t", 1001), ("", 2), ("a\"b", 2)] {
        let err = admin
            .set_flow_weight("default", name, weight)
            .await
            .expect_err("refused");
        assert_eq!(
            err.kind(),
            jobqueue_core::ErrorKind::InvalidArgument,
            "{err}"
        );
    }
    assert!(
        admin
            .flow_weights("default")
            .await
            .expect("weights")
            .is_empty()
    );
}
