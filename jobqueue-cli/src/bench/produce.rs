//! How the workloads produce: a client under the run's own key prefix,
//! one awaited enqueue, and bulk enqueues in batches.

use jobqueue_core::{Client, ClientConfig, PreparedJob};

use super::job::BenchJob;
use super::keyspace::run_prefix;

/// A client under a fresh run prefix; returns it with the prefix.
pub(crate) async fn run_client(config: &ClientConfig) -> Result<(Client, String), String> {
    let prefix = run_prefix(config.prefix_str());
    let client = Client::with_config(config.clone().prefix(&prefix))
        .await
        .map_err(|e| e.to_string())?;
    Ok((client, prefix))
}

/// Enqueues one throw-away job into the `warmup` queue, so the connection,
/// the scripts and the queue registry are warm before anything is timed.
pub(crate) async fn warm_up(client: &Client) -> Result<(), String> {
    enqueue_one(client, BenchJob::new(0), "warmup").await
}

/// Enqueues one job into `queue`, awaiting Redis's reply.
pub(crate) async fn enqueue_one(client: &Client, job: BenchJob, queue: &str) -> Result<(), String> {
    client
        .job(job)
        .queue(queue)
        .enqueue()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Enqueues jobs `0..n` with the bulk API, `batch` per call; `job(client, i)`
/// prepares job `i` (its payload, queue and options).
pub(crate) async fn enqueue_in_batches(
    client: &Client,
    n: u64,
    batch: usize,
    job: impl Fn(&Client, u64) -> Result<PreparedJob, jobqueue_core::Error>,
) -> Result<(), String> {
    let batch = batch.max(1) as u64;
    let mut next = 0u64;
    while next < n {
        let end = (next + batch).min(n);
        let jobs = (next..end)
            .map(|i| job(client, i))
            .collect::<Result<Vec<PreparedJob>, _>>()
            .map_err(|e| e.to_string())?;
        client
            .enqueue_prepared(jobs)
            .await
            .map_err(|e| e.to_string())?;
        next = end;
    }
    Ok(())
}

/// Prepares benchmark job `i` for the `bench` queue, its payload grown to
/// about `bytes` when given (`--payload-bytes`).
pub(crate) fn sized_bench_job(
    client: &Client,
    i: u64,
    bytes: Option<usize>,
) -> Result<PreparedJob, jobqueue_core::Error> {
    client
        .job(BenchJob::sized(i, bytes))
        .queue("bench")
        .prepare()
}
