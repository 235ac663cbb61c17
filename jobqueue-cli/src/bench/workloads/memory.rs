//! w5: Redis memory per waiting job.

use jobqueue_core::ClientConfig;
use serde_json::json;

use crate::bench::args::BenchArgs;
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::{enqueue_in_batches, run_client, sized_bench_job, warm_up};
use crate::bench::report::{print_line, progress, round3};

pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(50_000);
    let (client, prefix) = run_client(&config).await?;
    // Register the queue first so the registry entry is not counted.
    warm_up(&client).await?;
    client
        .admin()
        .purge("warmup")
        .await
        .map_err(|e| e.to_string())?;
    client
        .store()
        .register_queues(["bench"])
        .await
        .map_err(|e| e.to_string())?;
    let before = used_memory(config.redis_url()).await?;
    progress(format_args!("w5: bulk-enqueueing {n} waiting jobs"));
    enqueue_in_batches(&client, n, 1000, |client, i| {
        sized_bench_job(client, i, args.payload_bytes)
    })
    .await?;
    let after = used_memory(config.redis_url()).await?;
    let payload_bytes = serde_json::to_vec(&BenchJob::sized(n / 2, args.payload_bytes))
        .map(|v| v.len())
        .unwrap_or(0);
    delete_keys(config.redis_url(), &prefix).await?;
    print_line(
        "w5",
        json!({
            "n": n,
            "bytes_per_job": round3((after as f64 - before as f64) / n as f64),
            "payload_bytes": payload_bytes,
        }),
    );
    Ok(())
}

/// Redis's `used_memory` (`INFO memory`), bytes.
pub(crate) async fn used_memory(url: &str) -> Result<u64, String> {
    let mut conn = redis::Client::open(url)
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "INFO memory has no used_memory".to_owned())
}
