//! Chaos scenario 11: batches under a SIGKILL storm. Four worker processes
//! run many small batches (each with on_complete and on_success
//! callbacks) while a random worker is SIGKILLed every 0.5-1.5 s and
//! replaced. Every batch must finish with exact counts (each job counted
//! succeeded once, however often it ran), and each callback must be
//! enqueued exactly once per batch: one distinct callback job per batch
//! and kind, and no two runs of a callback starting with the same attempt
//! number (an enqueued-twice callback would; a callback re-run after its
//! worker was killed counts one more attempt, the at-least-once delivery
//! of the callback job itself, DESIGN.md invariant 2). Batches end two jobs at a time on different workers all
//! along, so the "last two jobs end together" race is exercised too.
//!
//! Size: `JQ_CHAOS_BATCHES` (CI 60 batches), `JQ_CHAOS_BATCH_JOBS` (jobs
//! per batch, CI 40), `JQ_CHAOS_BATCH_JOB_MS` (each job's sleep, CI 20 ms).
//!
//! Scenario 11b, nested batches across queues: parents on `default`, each
//! with jobs of its own and two child batches on the queue `children`
//! (another slot on a cluster: the parents learn of their children's ends
//! only through the `children` queue's release outbox, applied by
//! whichever worker's reaper sweeps it — often one that is killed
//! mid-delivery). Same storm. Every parent and child must finish with
//! exact counts (each child counted once as succeeded in its parent), and
//! parent and child callbacks each enqueued exactly once. Size:
//! `JQ_CHAOS_NESTED_PARENTS` (CI 30), `JQ_CHAOS_NESTED_CHILD_JOBS` (jobs per
//! child, CI 20), `JQ_CHAOS_NESTED_JOB_MS` (each job's sleep, CI 150 ms, so
//! the storm lasts several kills).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jobqueue_core::admin::BatchState;
use jobqueue_integration::chaos::{Figures, Fleet, KillRecord, param};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::traces::trace_counts;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on};
use jobqueue_testing::TestRedis;
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_secs(3);

fn callback(env: &TestRedis, kind: &str, batch: u64) -> TestJob {
    TestJob {
        tag: batch,
        ..TestJob::new(env.url(), &format!("{}:cb:{kind}", env.prefix()))
    }
}

/// Callback runs that started with an attempt number another run of the
/// same callback job already started with: a callback enqueued twice (a
/// re-run after a killed worker's lease lapsed counts one more attempt,
/// so it is not one of these).
async fn callback_enqueued_twice(env: &TestRedis, kind: &str) -> u64 {
    let mut conn = env.connection().await.unwrap();
    let starts: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{}:cb:{kind}:attempts", env.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    starts
        .into_iter()
        .filter(|start| !seen.insert(start.clone()))
        .count() as u64
}

/// Kills a random worker of `fleet` (and starts a replacement) every
/// 0.5-1.5 s until `done`; fails at `deadline`. Returns the kills.
async fn storm_until(
    fleet: &mut Fleet,
    deadline: Instant,
    done: impl AsyncFn() -> bool,
) -> Vec<KillRecord> {
    let mut kills = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(500..1500))).await;
        if done().await {
            return kills;
        }
        assert!(Instant::now() < deadline, "the batches did not finish");
        let victim = fastrand::usize(..fleet.len());
        kills.push(fleet.kill_and_replace(victim).await);
    }
}

/// Callback job id → runs started.
async fn callback_starts(env: &TestRedis, kind: &str) -> HashMap<String, u64> {
    trace_counts(env.url(), &format!("{}:cb:{kind}:started", env.prefix())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_batch_callback_fires_once_under_a_sigkill_storm() {
    let batches = param("batches", 60);
    let per_batch = param("batch_jobs", 40);
    let job_ms = param("batch_job_ms", 20);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-batches").await;
    let client = env.client();
    let queue = client.store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;

    let mut ids: Vec<Uuid> = Vec::new();
    for n in 0..batches {
        let job = TestJob {
            sleep_ms: job_ms,
            tag: n,
            ..env.test_job()
        };
        let batch = client
            .batch()
            .description(format!("chaos batch {n}"))
            .on_complete(callback(&env, "complete", n))
            .on_success(callback(&env, "success", n))
            .enqueue((0..per_batch).map(|_| job.clone()))
            .await
            .unwrap();
        ids.push(batch.id());
    }
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60 + batches * per_batch * job_ms / 1000);
    let all_done = || async {
        let admin = client.admin();
        for id in &ids {
            if admin.batch("default", *id).await.unwrap().state != BatchState::Finished {
                return false;
            }
        }
        callback_starts(&env, "success").await.len() as u64 >= batches
            && callback_starts(&env, "complete").await.len() as u64 >= batches
    };
    let kills = storm_until(&mut fleet, deadline, all_done).await;
    let run_time = started.elapsed();
    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let in_flight_at_kills: u64 = kills.iter().map(|k| k.in_flight).sum();

    let mut succeeded = 0;
    for id in &ids {
        let info = client.admin().batch("default", *id).await.unwrap();
        assert_eq!(
            (info.total, info.pending, info.succeeded, info.dead),
            (per_batch, 0, per_batch, 0),
            "batch counts drifted: {info:?}"
        );
        assert!(info.callbacks.iter().all(|cb| cb.fired_at_ms.is_some()));
        succeeded += info.succeeded;
    }
    // Every job of every batch ran to success at least once.
    assert_eq!(env.done().await.len() as u64, batches * per_batch);
    let mut callbacks_fired = 0;
    let mut callback_duplicate_starts = 0;
    let mut callback_duplicates = 0;
    for kind in ["complete", "success"] {
        callback_duplicates += callback_enqueued_twice(&env, kind).await;
        let starts = callback_starts(&env, kind).await;
        assert_eq!(
            starts.len() as u64,
            batches,
            "one {kind} callback job per batch"
        );
        callbacks_fired += starts.len() as u64;
        callback_duplicate_starts += starts.values().map(|n| n - 1).sum::<u64>();
    }
    assert_eq!(callback_duplicates, 0, "a callback was enqueued twice");
    assert!(
        callback_duplicate_starts <= in_flight_at_kills,
        "{callback_duplicate_starts} callback re-runs, more than the killed workers held"
    );
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0)
    );

    Figures::new("batches_sigkill")
        .set("batches", batches)
        .set("jobs_per_batch", per_batch)
        .set("jobs_counted_succeeded", succeeded)
        .set("workers", WORKERS as u64)
        .set("kills", kills.len() as u64)
        .set("in_flight_at_kills", in_flight_at_kills)
        .set("callbacks_fired", callbacks_fired)
        .set("callback_duplicates", callback_duplicates)
        .set("callback_duplicate_starts", callback_duplicate_starts)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_batches_across_queues_fire_each_callback_once_under_a_sigkill_storm() {
    const CHILDREN: &str = "children";
    const CHILDREN_PER_PARENT: u64 = 2;
    let parents = param("nested_parents", 30);
    let per_child = param("nested_child_jobs", 20);
    let job_ms = param("nested_job_ms", 150);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-nested").await;
    let client = env.client();
    let queue = client.store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    spec.queues = format!("default,{CHILDREN}");

    let mut ids: Vec<(Uuid, Vec<Uuid>)> = Vec::new();
    for n in 0..parents {
        let job = TestJob {
            sleep_ms: job_ms,
            tag: n,
            ..env.test_job()
        };
        let parent = client
            .batch()
            .description(format!("chaos parent {n}"))
            .on_complete(callback(&env, "parent_complete", n))
            .on_success(callback(&env, "parent_success", n))
            .create()
            .await
            .unwrap();
        parent.add([job.clone(), job.clone()]).await.unwrap();
        let mut children = Vec::new();
        for c in 0..CHILDREN_PER_PARENT {
            let child = parent
                .child()
                .queue(CHILDREN)
                .on_success(callback(&env, "child_success", n * CHILDREN_PER_PARENT + c))
                .enqueue((0..per_child).map(|_| job.clone()))
                .await
                .unwrap();
            children.push(child.id());
        }
        parent.seal().await.unwrap();
        ids.push((parent.id(), children));
    }
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;
    let started = Instant::now();
    let deadline = started
        + Duration::from_secs(90 + parents * (2 + CHILDREN_PER_PARENT * per_child) * job_ms / 1000);
    let all_done = || async {
        let admin = client.admin();
        for (parent, _) in &ids {
            if admin.batch("default", *parent).await.unwrap().state != BatchState::Finished {
                return false;
            }
        }
        callback_starts(&env, "parent_success").await.len() as u64 >= parents
            && callback_starts(&env, "parent_complete").await.len() as u64 >= parents
            && callback_starts(&env, "child_success").await.len() as u64
                >= parents * CHILDREN_PER_PARENT
    };
    let kills = storm_until(&mut fleet, deadline, all_done).await;
    let run_time = started.elapsed();
    assert!(fleet.stop_all(Duration::from_secs(15)).await);

    let admin = client.admin();
    for (parent, children) in &ids {
        let info = admin.batch("default", *parent).await.unwrap();
        assert_eq!(
            (
                info.total,
                info.pending,
                info.succeeded,
                info.dead,
                info.cancelled
            ),
            (2 + CHILDREN_PER_PARENT, 0, 2 + CHILDREN_PER_PARENT, 0, 0),
            "parent counts drifted: {info:?}"
        );
        assert!(info.children.iter().all(|c| c.state == "succeeded"));
        for child in children {
            let c = admin.batch(CHILDREN, *child).await.unwrap();
            assert_eq!(
                (c.total, c.pending, c.succeeded, c.dead),
                (per_child, 0, per_child, 0),
                "child counts drifted: {c:?}"
            );
        }
    }
    let jobs = parents * (2 + CHILDREN_PER_PARENT * per_child);
    let lost = jobs - env.done().await.len() as u64;
    assert_eq!(lost, 0, "jobs that never succeeded");
    let mut fired = 0;
    let mut duplicates = 0;
    for (kind, expected) in [
        ("parent_complete", parents),
        ("parent_success", parents),
        ("child_success", parents * CHILDREN_PER_PARENT),
    ] {
        duplicates += callback_enqueued_twice(&env, kind).await;
        let starts = callback_starts(&env, kind).await;
        assert_eq!(
            starts.len() as u64,
            expected,
            "one {kind} callback job per batch"
        );
        fired += starts.len() as u64;
    }
    assert_eq!(duplicates, 0, "a callback was enqueued twice");
    for queue in ["default", CHILDREN] {
        let info = admin.queue(queue).await.unwrap();
        assert_eq!(
            (info.ready, info.active, info.retry, info.dead),
            (0, 0, 0, 0),
            "{queue}"
        );
    }
    let mut conn = env.connection().await.unwrap();
    let outbox_left: u64 = redis::cmd("ZCARD")
        .arg(format!("{}:{{{CHILDREN}}}:releases", env.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(outbox_left, 0, "child ends left undelivered");

    Figures::new("nested_batches_sigkill")
        .set("parents", parents)
        .set("children", parents * CHILDREN_PER_PARENT)
        .set("jobs", jobs)
        .set("workers", WORKERS as u64)
        .set("kills", kills.len() as u64)
        .set("callbacks_fired", fired)
        .set("callback_duplicates", duplicates)
        .set("lost", lost)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
