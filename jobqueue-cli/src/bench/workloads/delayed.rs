//! w4: lateness of delayed jobs (start − due; negative means early).

use std::time::Duration;

use jobqueue_core::ClientConfig;
use serde_json::json;

use crate::bench::args::BenchArgs;
use crate::bench::child::{ChildWorker, samples_ms};
use crate::bench::clock::now_ns;
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::run_client;
use crate::bench::report::{merge, percentiles_ms, print_line, progress};

pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(500);
    let (client, prefix) = run_client(&config).await?;
    progress(format_args!(
        "w4: starting the worker (concurrency {})",
        args.concurrency
    ));
    let worker = ChildWorker::start(config.redis_url(), &prefix, args, n)?;
    progress(format_args!("w4: {n} jobs delayed 2-3 s"));
    for i in 0..n {
        let delay = Duration::from_millis(2000 + fastrand::u64(0..=1000));
        let mut job = BenchJob::new(i);
        job.due_ns = Some(now_ns() + delay.as_nanos() as i64);
        client
            .job(job)
            .queue("bench")
            .delay(delay)
            .enqueue()
            .await
            .map_err(|e| e.to_string())?;
    }
    let result = worker.result().await?;
    delete_keys(config.redis_url(), &prefix).await?;
    let samples = samples_ms(&result);
    print_line("w4", merge(json!({"n": n}), percentiles_ms(samples)));
    Ok(())
}
