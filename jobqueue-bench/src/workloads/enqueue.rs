//! w2: enqueue throughput, single awaited calls and bulk batches.

use std::time::Instant;

use jobqueue_core::ClientConfig;
use serde_json::json;

use super::{progress, run_client};
use crate::BenchArgs;
use crate::keyspace::delete_keys;
use crate::payload::BenchJob;
use crate::report::{print_line, round3};

pub(crate) async fn run_single(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(20_000);
    let (client, prefix) = run_client(&config).await?;
    // Warm the connection and the queue registration outside the timing.
    client
        .job(BenchJob::new(0))
        .queue("warmup")
        .enqueue()
        .await
        .map_err(|e| e.to_string())?;
    progress(format_args!("w2_single: {n} awaited enqueues"));
    let started = Instant::now();
    for i in 0..n {
        client
            .job(BenchJob::new(i))
            .queue("bench")
            .enqueue()
            .await
            .map_err(|e| e.to_string())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    delete_keys(config.redis_url(), &prefix).await?;
    print_line(
        "w2_single",
        json!({"n": n, "ops_per_s": (n as f64 / seconds).round(), "seconds": round3(seconds)}),
    );
    Ok(())
}

pub(crate) async fn run_bulk(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(20_000);
    let batch = args.batch.max(1);
    let (client, prefix) = run_client(&config).await?;
    client
        .job(BenchJob::new(0))
        .queue("warmup")
        .enqueue()
        .await
        .map_err(|e| e.to_string())?;
    progress(format_args!("w2_bulk: {n} jobs in batches of {batch}"));
    let started = Instant::now();
    let mut next = 0u64;
    while next < n {
        let end = (next + batch as u64).min(n);
        let jobs = (next..end).map(|i| client.job(BenchJob::new(i)).queue("bench").prepare());
        let jobs = jobs
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        client
            .enqueue_prepared(jobs)
            .await
            .map_err(|e| e.to_string())?;
        next = end;
    }
    let seconds = started.elapsed().as_secs_f64();
    delete_keys(config.redis_url(), &prefix).await?;
    print_line(
        "w2_bulk",
        json!({
            "n": n,
            "batch": batch,
            "jobs_per_s": (n as f64 / seconds).round(),
            "seconds": round3(seconds),
        }),
    );
    Ok(())
}
