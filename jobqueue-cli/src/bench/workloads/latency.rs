//! w3: enqueue → start latency at a fixed rate, worker warmed up.

use std::time::{Duration, Instant};

use jobqueue_core::ClientConfig;
use serde_json::json;

use crate::bench::args::BenchArgs;
use crate::bench::child::{ChildWorker, samples_ms};
use crate::bench::clock::now_ns;
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::{enqueue_one, run_client};
use crate::bench::report::{merge, percentiles_ms, print_line, progress, round3};

/// Jobs run before measuring, so connections and caches are warm.
const WARMUP_JOBS: u64 = 500;

pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(5_000);
    let rate = args.rate.max(1);
    let (client, prefix) = run_client(&config).await?;
    progress(format_args!(
        "w3: starting the worker (concurrency {})",
        args.concurrency
    ));
    let worker = ChildWorker::start(config.redis_url(), &prefix, args, n)?;

    progress("w3: warming up");
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..WARMUP_JOBS {
        interval.tick().await;
        let mut job = BenchJob::new(i);
        job.warmup = true;
        job.sent_ns = Some(now_ns());
        enqueue_one(&client, job, "bench").await?;
    }

    progress(format_args!("w3: {n} jobs at {rate}/s"));
    let started = Instant::now();
    for i in 0..n {
        interval.tick().await;
        let mut job = BenchJob::new(i);
        job.sent_ns = Some(now_ns());
        enqueue_one(&client, job, "bench").await?;
    }
    let achieved_rate = n as f64 / started.elapsed().as_secs_f64();
    let result = worker.result().await?;
    delete_keys(config.redis_url(), &prefix).await?;

    let samples = samples_ms(&result);
    print_line(
        "w3",
        merge(
            json!({
                "n": n,
                "c": args.concurrency,
                "target_rate": rate,
                "achieved_rate": round3(achieved_rate),
            }),
            percentiles_ms(samples),
        ),
    );
    Ok(())
}
