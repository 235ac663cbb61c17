//! w2: enqueue throughput, single awaited calls and bulk batches.

use std::time::{Duration, Instant};

use jobqueue_core::{Client, ClientConfig};
use serde_json::json;

use crate::bench::args::BenchArgs;
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::{
    enqueue_in_batches, enqueue_one, run_client, sized_bench_job, warm_up,
};
use crate::bench::report::{print_line, progress, round3};

pub(crate) async fn run_single(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(20_000);
    let (client, prefix) = run_client(&config).await?;
    warm_up(&client).await?;
    progress(format_args!("w2_single: {n} awaited enqueues"));
    let started = Instant::now();
    for i in 0..n {
        if args.idempotent {
            enqueue_idempotent(&client, BenchJob::new(i), i).await?;
        } else {
            enqueue_one(&client, BenchJob::new(i), "bench").await?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    delete_keys(config.redis_url(), &prefix).await?;
    let mut line =
        json!({"n": n, "ops_per_s": (n as f64 / seconds).round(), "seconds": round3(seconds)});
    if args.idempotent {
        line["idempotent"] = json!(true);
    }
    print_line("w2_single", line);
    Ok(())
}

/// Enqueues one job into `bench` with its own idempotency key (`order-<i>`,
/// one hour window), awaiting Redis's reply.
async fn enqueue_idempotent(client: &Client, job: BenchJob, i: u64) -> Result<(), String> {
    client
        .job(job)
        .queue("bench")
        .idempotency_key(format!("order-{i}"), Duration::from_secs(3600))
        .enqueue()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub(crate) async fn run_bulk(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(20_000);
    let batch = args.batch.max(1);
    let (client, prefix) = run_client(&config).await?;
    warm_up(&client).await?;
    progress(format_args!("w2_bulk: {n} jobs in batches of {batch}"));
    let started = Instant::now();
    enqueue_in_batches(&client, n, batch, |client, i| {
        sized_bench_job(client, i, args.payload_bytes)
    })
    .await?;
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
