//! Durable execution: memoised steps across a SIGKILL of the worker
//! process, durable sleep (slot freed, never early), signals sent before
//! and after the wait and timed out, and the lease check on step writes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jobqueue_core::SignalOutcome;
use jobqueue_core::store::ops::step_store::StepWrite;
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::traces::trace_counts;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use redis::AsyncCommands;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

fn job(env: &TestRedis, steps: u32) -> DurableJob {
    DurableJob::new(env.url(), &format!("{}:trace", env.prefix()), steps)
}

async fn trace(env: &TestRedis, name: &str) -> HashMap<String, u64> {
    trace_counts(env.url(), &format!("{}:trace:{name}", env.prefix())).await
}

async fn trace_text(env: &TestRedis, name: &str, id: &str) -> Option<String> {
    let mut conn = env.connection().await.unwrap();
    conn.hget(format!("{}:trace:{name}", env.prefix()), id)
        .await
        .unwrap()
}

fn memo_key(env: &TestRedis, id: &str) -> String {
    format!("{}:{{default}}:steps:{id}", env.prefix())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_stored_before_a_sigkill_never_runs_again() {
    let env = test_redis("durable-sigkill").await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = 1500;
    let victim = WorkerProcess::start(WORKER, &spec);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let mut job = job(&env, 3);
        job.step_ms = 1500;
        ids.push(env.client().enqueue(job).await.unwrap().to_string());
    }
    // Step 2's closure started for every job: step 1's output is stored.
    assert!(
        eventually(Duration::from_secs(15), || async {
            trace(&env, "step:2").await.len() == 5
        })
        .await
    );
    victim.kill();
    let _survivor = WorkerProcess::start(WORKER, &spec);
    assert!(
        eventually(Duration::from_secs(30), || async {
            trace(&env, "done").await.len() == 5
        })
        .await,
        "every job finished after the kill"
    );
    let (step1, step2, step3, done) = (
        trace(&env, "step:1").await,
        trace(&env, "step:2").await,
        trace(&env, "step:3").await,
        trace(&env, "done").await,
    );
    let mut conn = env.connection().await.unwrap();
    for id in &ids {
        assert_eq!(
            step1.get(id),
            Some(&1),
            "{id}: step 1 was stored, never re-ran"
        );
        // The documented window: step 2 was in flight when the worker died,
        // so it runs again (its output was never stored).
        assert_eq!(step2.get(id), Some(&2), "{id}: step 2 was in flight");
        assert_eq!(step3.get(id), Some(&1), "{id}: step 3 ran once");
        assert_eq!(done.get(id), Some(&1), "{id} finished once");
        let memo: bool = conn.exists(memo_key(&env, id)).await.unwrap();
        assert!(!memo, "{id}: the memo went with the job");
    }
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_sleep_frees_the_slot_and_never_wakes_early() {
    let env = test_redis("durable-sleep").await;
    let worker = test_worker(&env).concurrency(1).start().await.unwrap();
    let mut sleeper = job(&env, 2);
    sleeper.sleep_ms = Some(1500);
    let id = env.client().enqueue(sleeper).await.unwrap().to_string();
    let mut conn = env.connection().await.unwrap();
    let memo = memo_key(&env, &id);
    assert!(
        eventually(Duration::from_secs(10), || async {
            let wake: Option<String> = env
                .connection()
                .await
                .unwrap()
                .hget(&memo, "sleep:nap")
                .await
                .unwrap();
            wake.is_some()
        })
        .await
    );
    let wake_ms: i64 = conn
        .hget::<_, _, String>(&memo, "sleep:nap")
        .await
        .unwrap()
        .parse()
        .unwrap();
    // While it sleeps the job holds no slot: a plain job runs at once on
    // the single slot.
    assert!(
        eventually(Duration::from_secs(2), || async {
            let info = env.client().admin().queue("default").await.unwrap();
            info.active == 0 && info.retry == 1 && info.sleeping == 1
        })
        .await,
        "the sleeping job left the worker"
    );
    let other = job(&env, 1);
    let other_id = env.client().enqueue(other).await.unwrap().to_string();
    assert!(
        eventually(Duration::from_secs(1), || async {
            trace(&env, "done").await.contains_key(&other_id)
        })
        .await,
        "another job ran on the freed slot during the sleep"
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            trace(&env, "done").await.contains_key(&id)
        })
        .await
    );
    let woke: i64 = trace_text(&env, "woke", &id)
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        woke >= wake_ms,
        "woke at {woke}, due at {wake_ms}: never early"
    );
    assert!(woke - wake_ms < 3000, "woke {} ms late", woke - wake_ms);
    assert_eq!(trace(&env, "step:1").await.get(&id), Some(&1));
    assert_eq!(trace(&env, "step:2").await.get(&id), Some(&1));
    assert_eq!(trace(&env, "runs").await.get(&id), Some(&2));
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!((info.failed, info.dead), (0, 0), "a sleep is no failure");
    assert_eq!(info.sleeping, 0, "awake");
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_sent_before_the_wait_is_taken_without_parking() {
    let env = test_redis("durable-signal-before").await;
    let mut job = job(&env, 1);
    job.signal = Some("approved".into());
    job.signal_timeout_ms = 60_000;
    let id = env.client().enqueue(job).await.unwrap();
    let sent = env
        .client()
        .signal("default", id, "approved", &serde_json::json!({"by": "ops"}))
        .await
        .unwrap();
    assert_eq!(sent, SignalOutcome::Stored);
    let worker = test_worker(&env).start().await.unwrap();
    let id = id.to_string();
    assert!(
        eventually(Duration::from_secs(10), || async {
            trace(&env, "done").await.contains_key(&id)
        })
        .await
    );
    assert_eq!(
        trace_text(&env, "signal", &id).await.as_deref(),
        Some(r#"R:{"by":"ops"}"#)
    );
    assert_eq!(
        trace(&env, "runs").await.get(&id),
        Some(&1),
        "it never parked"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_job_wakes_on_its_signal_and_others_time_out() {
    let env = test_redis("durable-signal-after").await;
    let worker = test_worker(&env).start().await.unwrap();
    let mut waits = job(&env, 1);
    waits.signal = Some("shipped".into());
    waits.signal_timeout_ms = 60_000;
    let waiting_id = env.client().enqueue(waits).await.unwrap();
    let mut times_out = job(&env, 1);
    times_out.signal = Some("never".into());
    times_out.signal_timeout_ms = 800;
    let timeout_id = env.client().enqueue(times_out).await.unwrap().to_string();
    let memo = memo_key(&env, &waiting_id.to_string());
    assert!(
        eventually(Duration::from_secs(10), || async {
            let waiting: Option<String> = env
                .connection()
                .await
                .unwrap()
                .hget(&memo, "~waiting")
                .await
                .unwrap();
            waiting.as_deref() == Some("shipped")
        })
        .await,
        "the job parked waiting for its signal"
    );
    let parked = env.client().admin().queue("default").await.unwrap();
    // (the job that times out may be parked too, or already awake)
    assert!(parked.waiting_for_signal >= 1, "{parked:?}");
    assert_eq!(parked.retry, parked.waiting_for_signal, "{parked:?}");
    // A signal of another name does not wake it.
    let other = env
        .client()
        .signal("default", waiting_id, "cancelled", &1)
        .await
        .unwrap();
    assert_eq!(other, SignalOutcome::Stored);
    let sent_at = Instant::now();
    let woken = env
        .client()
        .signal("default", waiting_id, "shipped", &"1Z999")
        .await
        .unwrap();
    assert_eq!(woken, SignalOutcome::Woken);
    let id = waiting_id.to_string();
    assert!(
        eventually(Duration::from_secs(10), || async {
            trace(&env, "done").await.contains_key(&id)
        })
        .await
    );
    assert!(sent_at.elapsed() < Duration::from_secs(5), "woke at once");
    assert_eq!(
        trace_text(&env, "signal", &id).await.as_deref(),
        Some(r#"R:"1Z999""#)
    );
    assert_eq!(trace(&env, "runs").await.get(&id), Some(&2));
    assert!(
        eventually(Duration::from_secs(10), || async {
            trace(&env, "done").await.contains_key(&timeout_id)
        })
        .await
    );
    assert_eq!(
        trace_text(&env, "signal", &timeout_id).await.as_deref(),
        Some("T")
    );
    assert_eq!(trace(&env, "step:1").await.get(&id), Some(&1));
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!((info.retry, info.waiting_for_signal), (0, 0));
    worker.shutdown().await;
}

#[tokio::test]
async fn a_worker_without_a_live_lease_cannot_write_a_step() {
    let env = test_redis("durable-lease").await;
    let store = env.client().store().clone();
    let queue = store.queue_keys("default").unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    let mut conn = env.connection().await.unwrap();
    let write = StepWrite::Step {
        name: "charge",
        output: "1",
    };
    let ttl = 60_000;
    // Leased, live lease: stored.
    let () = conn.hset(queue.active("w1"), &id, "record").await.unwrap();
    let far: f64 = 4.0e12;
    let () = conn.zadd(queue.leases(), "w1", far).await.unwrap();
    let stored = store
        .step_store(&queue, &id, "w1", write, ttl)
        .await
        .unwrap();
    assert!(stored.is_some());
    // Lease deadline passed (not reclaimed yet): refused.
    let () = conn.zadd(queue.leases(), "w1", 1.0).await.unwrap();
    let write2 = StepWrite::Step {
        name: "ship",
        output: "2",
    };
    assert!(
        store
            .step_store(&queue, &id, "w1", write2, ttl)
            .await
            .unwrap()
            .is_none()
    );
    // Another worker, which does not hold the job: refused.
    let () = conn.zadd(queue.leases(), "w2", far).await.unwrap();
    assert!(
        store
            .step_store(&queue, &id, "w2", write2, ttl)
            .await
            .unwrap()
            .is_none()
    );
    let fields: HashMap<String, String> = conn.hgetall(queue.steps(&id)).await.unwrap();
    assert_eq!(fields.len(), 1, "only the leased write landed: {fields:?}");
    assert!(fields["step:charge"].ends_with(" 1"));
    let ttl_left: i64 = conn.pttl(queue.steps(&id)).await.unwrap();
    assert!(ttl_left > 0 && ttl_left <= 60_000, "the memo has a TTL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_survive_a_retry_and_a_plain_job_has_no_memo() {
    let env = test_redis("durable-retry").await;
    let worker = test_worker(&env).start().await.unwrap();
    let mut job = job(&env, 2);
    job.fail_once_after_step = Some(1);
    let id = env.client().enqueue(job).await.unwrap().to_string();
    let mut plain = DurableJob::new(env.url(), &format!("{}:trace", env.prefix()), 0);
    plain.steps = 0;
    let plain_id = env.client().enqueue(plain).await.unwrap().to_string();
    assert!(
        eventually(Duration::from_secs(10), || async {
            let done = trace(&env, "done").await;
            done.contains_key(&id) && done.contains_key(&plain_id)
        })
        .await
    );
    assert_eq!(trace(&env, "runs").await.get(&id), Some(&2), "retried once");
    assert_eq!(
        trace(&env, "step:1").await.get(&id),
        Some(&1),
        "step 1 kept"
    );
    assert_eq!(trace(&env, "step:2").await.get(&id), Some(&1));
    let mut conn = env.connection().await.unwrap();
    for job_id in [&id, &plain_id] {
        let memo: bool = conn.exists(memo_key(&env, job_id)).await.unwrap();
        assert!(!memo, "no memo is left behind");
    }
    worker.shutdown().await;
}
