//! Chaos scenario 11: three-step durable jobs under a SIGKILL storm. Four
//! worker processes run `DurableJob`s (three memoised steps each) while a
//! random one is SIGKILLed every 1-2 s and replaced. No job may be lost,
//! and a step may run again only in the documented window: its closure was
//! in flight when its worker died (at most one step per job a killed worker
//! held), so the steps re-run are at most the jobs in flight at the kills.
//! A step whose output was stored never runs again.
//!
//! Size: `JQ_CHAOS_DURABLE_JOBS` (CI 2,000; `scripts/chaos durable` runs
//! 10,000), `JQ_CHAOS_DURABLE_STEP_MS` (each step's closure, CI 10 ms).

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::{Figures, Fleet, param};
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::traces::{trace_counts, trace_len};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, test_redis_on};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_secs(3);
const STEPS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_storm_reruns_no_stored_step_and_loses_no_job() {
    let jobs = param("durable_jobs", 2_000);
    let step_ms = param("durable_step_ms", 10);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-durable").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.lease_ms = LEASE.as_millis() as u64;
    let trace = format!("{}:trace", env.prefix());
    let mut template = DurableJob::new(env.url(), &trace, STEPS);
    template.step_ms = step_ms;
    let mut ids = Vec::new();
    for chunk in 0..jobs.div_ceil(1000) {
        let n = (jobs - chunk * 1000).min(1000);
        let batch = (0..n).map(|_| template.clone());
        ids.extend(env.client().enqueue_bulk(batch).await.unwrap());
    }
    let mut fleet = Fleet::start(WORKER, spec, queue, WORKERS).await;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(90 + jobs / 20);
    let done_key = format!("{trace}:done");
    let mut kills = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(1000..2000))).await;
        if trace_len(env.url(), &done_key).await >= jobs {
            break;
        }
        assert!(Instant::now() < deadline, "the storm run did not finish");
        let victim = fastrand::usize(..fleet.len());
        kills.push(fleet.kill_and_replace(victim).await);
    }
    let run_time = started.elapsed();
    assert!(
        kills.len() >= 2,
        "only {} kills: too short a run",
        kills.len()
    );
    let in_flight_at_kills: u64 = kills.iter().map(|k| k.in_flight).sum();
    assert!(fleet.stop_all(Duration::from_secs(15)).await);

    let done = trace_counts(env.url(), &done_key).await;
    let lost = ids
        .iter()
        .filter(|id| !done.contains_key(&id.to_string()))
        .count();
    assert_eq!(lost, 0, "{lost} jobs never finished");
    let mut reruns = 0u64;
    for step in 1..=STEPS {
        let runs = trace_counts(env.url(), &format!("{trace}:step:{step}")).await;
        for id in &ids {
            let n = runs.get(&id.to_string()).copied().unwrap_or(0);
            assert!(n >= 1, "{id}: step {step} never ran");
            reruns += n - 1;
        }
    }
    assert!(
        reruns <= in_flight_at_kills,
        "{reruns} step re-runs, but the killed workers held only {in_flight_at_kills} jobs"
    );
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, 0),
        "nothing is left behind: {info:?}"
    );
    let mut conn = env.connection().await.unwrap();
    let memos: Vec<String> =
        redis::AsyncCommands::keys(&mut conn, format!("{}:{{default}}:steps:*", env.prefix()))
            .await
            .unwrap();
    assert!(
        memos.is_empty(),
        "{} memos outlived their jobs",
        memos.len()
    );

    Figures::new("durable_steps_sigkill_storm")
        .set("jobs", jobs)
        .set("steps_per_job", u64::from(STEPS))
        .set("lost", lost as u64)
        .set("workers", WORKERS as u64)
        .set("kills", kills.len() as u64)
        .set("in_flight_at_kills", in_flight_at_kills)
        .set("step_reruns", reruns)
        .set("reclaimed", info.reclaimed)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
