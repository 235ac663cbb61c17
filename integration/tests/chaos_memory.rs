//! Chaos scenario 7: memory stays bounded. Many jobs run, one in ten fails
//! permanently; afterwards Redis holds the capped dead set and a few
//! fixed-size keys, and its memory is bounded by the dead-set cap, not by
//! the number of jobs run (DESIGN.md invariant 7).
//!
//! Size: `JQ_CHAOS_MEMORY_JOBS` (CI 100,000), `JQ_CHAOS_MEMORY_DEAD_CAP`
//! (dead jobs kept per queue, CI 1,000).

use std::time::{Duration, Instant};

use jobqueue_integration::chaos::memory::used_memory;
use jobqueue_integration::chaos::{Figures, Fleet, param};
use jobqueue_integration::jobs::OutcomeJob;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, test_redis_on};
use jobqueue_testing::eventually;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
/// Jobs per wave; the producer keeps at most two waves waiting, so the
/// backlog (which is legitimately in memory) stays small.
const WAVE: u64 = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_memory_is_bounded_by_the_dead_set_cap_not_by_jobs_run() {
    let jobs = param("memory_jobs", 100_000);
    let dead_cap = param("memory_dead_cap", 1_000);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-memory").await;
    let queue = env.client().store().queue_keys("default").unwrap();
    let admin = env.client().admin();
    let baseline = used_memory(&env).await;

    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.concurrency = 20;
    spec.env = vec![("JQ_DEAD_MAX_JOBS".into(), dead_cap.to_string())];
    let mut fleet = Fleet::start(WORKER, spec, queue.clone(), 2).await;
    let started = Instant::now();
    let mut sent = 0;
    let mut memory_at_half = None;
    let mut peak = baseline;
    while sent < jobs {
        let info = admin.queue("default").await.unwrap();
        peak = peak.max(used_memory(&env).await);
        if info.ready > WAVE {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let wave = (sent..(sent + WAVE).min(jobs)).map(|n| OutcomeJob {
            n,
            permanent_failure: n % 10 == 0,
        });
        sent += env.client().enqueue_bulk(wave).await.unwrap().len() as u64;
        if memory_at_half.is_none() && sent >= jobs / 2 {
            // Halfway: let the queue drain, then take a reading.
            assert!(
                eventually(Duration::from_secs(120), || async {
                    let info = admin.queue("default").await.unwrap();
                    info.ready == 0 && info.active == 0
                })
                .await
            );
            memory_at_half = Some(used_memory(&env).await);
        }
    }
    let failing = jobs.div_ceil(10);
    assert!(
        eventually(Duration::from_secs(120 + jobs / 500), || async {
            let info = admin.queue("default").await.unwrap();
            info.ready == 0 && info.active == 0 && info.dead + info.dead_trimmed >= failing
        })
        .await,
        "the jobs did not all run"
    );
    let run_time = started.elapsed();
    assert!(fleet.stop_all(Duration::from_secs(15)).await);
    let end = used_memory(&env).await;
    let info = admin.queue("default").await.unwrap();

    assert_eq!(info.processed, jobs - failing, "{info:?}");
    assert_eq!(
        info.dead,
        dead_cap.min(failing),
        "the dead set keeps its cap"
    );
    assert_eq!(
        info.dead + info.dead_trimmed,
        failing,
        "every failure was dead-lettered"
    );
    let mut conn = env.connection().await.unwrap();
    let records: u64 = redis::cmd("HLEN")
        .arg(queue.jobs())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(records, info.dead, "only dead jobs keep a record");
    let keys = env.keys().await.unwrap().len();
    assert!(keys < 50, "{keys} keys left: something grows per job");
    // A dead record with its reason is well under 1 KiB; allow 2 KiB each,
    // twice over for the sorted set and allocator slack, plus 2 MiB.
    let retained = end.saturating_sub(baseline);
    let bound = 2 * 1024 * 1024 + dead_cap * 4 * 1024;
    assert!(
        retained <= bound,
        "Redis kept {retained} bytes after {jobs} jobs (bound {bound})"
    );
    if let Some(half) = memory_at_half {
        // The second half of the run, once the dead set is full, adds
        // nothing that scales with the jobs.
        let growth = end.saturating_sub(half);
        assert!(
            growth <= 1024 * 1024 + dead_cap * 1024,
            "memory grew {growth} bytes over the second half"
        );
    }

    Figures::new("memory")
        .set("jobs", jobs)
        .set("failed_permanently", failing)
        .set("dead_cap", dead_cap)
        .set("dead_kept", info.dead)
        .set("dead_trimmed", info.dead_trimmed)
        .set("keys_left", keys as u64)
        .set("baseline_bytes", baseline)
        .set("memory_at_half_bytes", memory_at_half.unwrap_or(0))
        .set("end_bytes", end)
        .set("retained_bytes", retained)
        .set("peak_bytes", peak)
        .set("retained_bytes_per_job_run", retained as f64 / jobs as f64)
        .set("run_s", run_time.as_secs_f64())
        .publish();
}
