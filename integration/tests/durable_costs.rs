//! What durable execution costs, counted by Redis itself (`INFO
//! commandstats` on a private server, reset between phases): plain jobs
//! pay nothing new (no memo read, no step script, the plain `ack.lua`),
//! a job with three steps pays one memo read and one `step_store.lua` per
//! step; and the memory of one idempotency key. The figures are printed
//! for docs/benchmarks.md.

use std::collections::HashMap;
use std::time::Duration;

use jobqueue_core::store::ops::step_store::StepWrite;
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{RedisServer, test_redis, test_redis_on, test_worker};
use jobqueue_testing::{TestRedis, eventually};

const JOBS: u64 = 300;

/// `cmdstat_<name>` → (calls, usec) since the last reset.
async fn command_stats(env: &TestRedis) -> HashMap<String, (u64, u64)> {
    let mut conn = env.connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let field = |key: &str| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(key))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            Some((name.to_owned(), (field("calls="), field("usec="))))
        })
        .collect()
}

async fn reset_stats(env: &TestRedis) {
    let mut conn = env.connection().await.unwrap();
    let () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
}

async fn drain(env: &TestRedis, processed: u64) {
    assert!(
        eventually(Duration::from_secs(60), || async {
            env.client()
                .admin()
                .queue("default")
                .await
                .unwrap()
                .processed
                >= processed
        })
        .await
    );
}

fn calls(stats: &HashMap<String, (u64, u64)>, name: &str) -> u64 {
    stats.get(name).map_or(0, |s| s.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_jobs_pay_nothing_and_a_step_costs_one_script_call() {
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "durable-costs").await;
    // Traces of the durable jobs go to the shared Redis, not counted here.
    let traces = test_redis("durable-costs-traces").await;
    let worker = test_worker(&env).concurrency(10).start().await.unwrap();
    let client = env.client();

    reset_stats(&env).await;
    client
        .enqueue_bulk((0..JOBS).map(|n| NoopJob { n }))
        .await
        .unwrap();
    drain(&env, JOBS).await;
    let plain = command_stats(&env).await;
    // The worker's own loops read a few hashes (limits, cron) in the
    // background; a memo read per job would be 300 more.
    let background = calls(&plain, "hgetall");
    assert!(background < 20, "a plain job reads no memo: {plain:?}");

    reset_stats(&env).await;
    let durable = DurableJob::new(traces.url(), &format!("{}:trace", traces.prefix()), 3);
    client
        .enqueue_bulk((0..JOBS).map(|_| durable.clone()))
        .await
        .unwrap();
    drain(&env, 2 * JOBS).await;
    let stepped = command_stats(&env).await;
    // One memo read per run: HGETALL of the memo and of the signals.
    let memo_reads = calls(&stepped, "hgetall");
    // (plus the background reads, which grow with the phase's length)
    assert!(
        (2 * JOBS..3 * JOBS).contains(&memo_reads),
        "{memo_reads} HGETALL: {stepped:?}"
    );
    // step_store.lua checks the lease with one HGET per step.
    assert!(calls(&stepped, "hget") >= 3 * JOBS, "{stepped:?}");
    let plain_scripts = calls(&plain, "evalsha");
    let stepped_scripts = calls(&stepped, "evalsha");
    let per_job = |n: u64| n as f64 / JOBS as f64;
    eprintln!(
        "COSTS plain: {:.2} EVALSHA/job, {:.2} commands/job; 3 steps: {:.2} EVALSHA/job, {:.2} commands/job",
        per_job(plain_scripts),
        per_job(plain.values().map(|s| s.0).sum()),
        per_job(stepped_scripts),
        per_job(stepped.values().map(|s| s.0).sum()),
    );
    // Three step_store.lua calls per job beyond the plain path (fetch and
    // ack are batched, so the plain count per job is below 1).
    let extra = per_job(stepped_scripts) - per_job(plain_scripts);
    assert!(
        (2.5..4.5).contains(&extra),
        "{extra} more script calls per job"
    );
    worker.shutdown().await;

    // Redis time of one step write, alone: 1000 writes, three per job as
    // in the jobs above.
    let store = client.store().clone();
    let queue = store.queue_keys("default").unwrap();
    let mut conn = env.connection().await.unwrap();
    let writes = 999u32;
    let ids: Vec<String> = (0..writes / 3)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    for id in &ids {
        let () = redis::AsyncCommands::hset(&mut conn, queue.active("w"), id, "r")
            .await
            .unwrap();
    }
    let () = redis::AsyncCommands::zadd(&mut conn, queue.leases(), "w", 4.0e12)
        .await
        .unwrap();
    reset_stats(&env).await;
    let output = serde_json::json!({"charge": "ch_1", "amount": 1999}).to_string();
    let started = std::time::Instant::now();
    for n in 0..writes {
        let name = format!("s{}", n % 3);
        let write = StepWrite::Step {
            name: &name,
            output: &output,
        };
        let id = &ids[(n / 3) as usize];
        let stored = store.step_store(&queue, id, "w", write, 60_000).await;
        assert!(stored.unwrap().is_some());
    }
    let round_trip = started.elapsed() / writes;
    let one = command_stats(&env).await;
    let (n, usec) = one.get("evalsha").copied().unwrap_or_default();
    eprintln!(
        "COSTS step_store.lua: {:.1} µs of Redis time per step write ({n} calls), {round_trip:?} per round trip from the worker",
        usec as f64 / n.max(1) as f64
    );
    // A baseline measured the same way: heartbeat.lua (TIME, ZSCORE, ZADD).
    reset_stats(&env).await;
    for _ in 0..writes {
        store
            .heartbeat(&queue, "w", Duration::from_secs(3600))
            .await
            .unwrap();
    }
    let base = command_stats(&env).await;
    let (n, usec) = base.get("evalsha").copied().unwrap_or_default();
    eprintln!(
        "COSTS heartbeat.lua (baseline): {:.1} µs of Redis time per call",
        usec as f64 / n.max(1) as f64
    );

    // Single enqueues, one awaited at a time (w2_single's shape): plain
    // RPUSH against enqueue_idempotent.lua.
    let rounds = 500u32;
    let started = std::time::Instant::now();
    for n in 0..rounds {
        client.enqueue(NoopJob { n: u64::from(n) }).await.unwrap();
    }
    let plain_enqueue = started.elapsed() / rounds;
    let started = std::time::Instant::now();
    for n in 0..rounds {
        client
            .job(NoopJob { n: u64::from(n) })
            .idempotency_key(format!("request-{n}"), Duration::from_secs(60))
            .enqueue()
            .await
            .unwrap();
    }
    let keyed_enqueue = started.elapsed() / rounds;
    let started = std::time::Instant::now();
    for n in 0..rounds {
        client
            .job(NoopJob { n: u64::from(n) })
            .id(uuid::Uuid::now_v7())
            .enqueue()
            .await
            .unwrap();
    }
    let id_enqueue = started.elapsed() / rounds;
    eprintln!("COSTS single enqueue with a given id (enqueue_with_id.lua): {id_enqueue:?}");
    eprintln!(
        "COSTS single enqueue: plain {plain_enqueue:?}, with an idempotency key {keyed_enqueue:?} ({:.2}x)",
        keyed_enqueue.as_secs_f64() / plain_enqueue.as_secs_f64()
    );

    // Memory of one idempotency key.
    let day = Duration::from_secs(86_400);
    for n in 0..100 {
        client
            .job(NoopJob { n })
            .idempotency_key(format!("checkout-{n}"), day)
            .enqueue()
            .await
            .unwrap();
    }
    let keys: Vec<String> =
        redis::AsyncCommands::keys(&mut conn, format!("{}:{{default}}:idem:*", env.prefix()))
            .await
            .unwrap();
    assert_eq!(keys.len(), 100 + rounds as usize, "one marker per key");
    let keys = &keys[..100];
    let mut total = 0u64;
    for key in keys {
        let bytes: u64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        total += bytes;
    }
    eprintln!(
        "COSTS idempotency key: {} bytes (MEMORY USAGE, mean of 100)",
        total / 100
    );
    assert!(total / 100 < 400, "an idempotency key stays small");
}
