//! `limits`: how close a limited queue runs to its limit, with several
//! worker processes sharing it (`--processes`, default 3).
//!
//! * `--flow running`: a queue running limit of 5, 500 jobs of 50 ms;
//!   `utilisation` = busy slots ÷ limit, averaged over the run (first start
//!   to last end), from the jobs' own start and end times.
//! * `--flow keys`: 10 flow keys × 50 jobs of 50 ms, one job per key at a
//!   time (the default key class); utilisation of the 10 key slots.
//! * `--flow strict` / `--flow bucket`: a rate limit of 50/s, sliding window
//!   or token bucket, 500 no-op jobs; `busiest_window` = most starts in any
//!   1 s, and `rate_per_s` = starts after the first `limit` ÷ time from the
//!   first start to the last (the sustained rate, without the burst both
//!   modes allow at the start).
//!
//! The jobs are enqueued once every worker process is ready, so each
//! process competes from the first job.

use std::time::Duration;

use jobqueue_core::{Client, ClientConfig, QueueLimits, RateLimit};
use serde_json::{Value, json};

use crate::bench::args::{BenchArgs, FlowBench};
use crate::bench::child::ChildWorker;
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::{enqueue_in_batches, run_client};
use crate::bench::report::{print_line, progress, round3};

/// The running limit of `--flow running`.
const RUNNING_LIMIT: u32 = 5;
/// Flow keys of `--flow keys`.
const KEYS: u64 = 10;
/// How long a job of `running` and `keys` works.
const WORK_MS: u64 = 50;
/// The rate of `strict` and `bucket`: starts per second.
const RATE: u32 = 50;

/// Runs the workload and prints its line.
pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(500);
    let (client, prefix) = run_client(&config).await?;
    set_limits(&client, args.flow).await?;
    progress(format_args!(
        "limits {}: starting {} worker processes (concurrency {})",
        args.flow.as_str(),
        args.processes,
        args.concurrency
    ));
    let mut workers = (0..args.processes.max(1))
        .map(|_| ChildWorker::start_limits(config.redis_url(), &prefix, args))
        .collect::<Result<Vec<_>, _>>()?;
    progress(format_args!("limits: enqueueing {n} jobs"));
    let flow = args.flow;
    enqueue_in_batches(&client, n, args.batch, |client, i| {
        let mut job = BenchJob::new(i);
        job.work_ms = Some(match flow {
            FlowBench::Running | FlowBench::Keys => WORK_MS,
            FlowBench::Strict | FlowBench::Bucket => 0,
        });
        let builder = client.job(job).queue("bench");
        match flow {
            FlowBench::Keys => builder.flow_key(format!("account:{}", i % KEYS)).prepare(),
            _ => builder.prepare(),
        }
    })
    .await?;
    wait_until_drained(&client).await?;
    let mut runs = Vec::with_capacity(n as usize);
    for worker in &mut workers {
        worker.stop();
    }
    for worker in workers {
        let result = worker.result().await?;
        runs.extend(
            result["runs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|run| Some((run.get(0)?.as_i64()?, run.get(1)?.as_i64()?))),
        );
    }
    delete_keys(config.redis_url(), &prefix).await?;
    let mut line = match args.flow {
        FlowBench::Running => utilisation(&runs, u64::from(RUNNING_LIMIT)),
        FlowBench::Keys => utilisation(&runs, KEYS),
        FlowBench::Strict | FlowBench::Bucket => window(&runs),
    };
    line["flow"] = json!(args.flow.as_str());
    line["n"] = json!(n);
    line["ran"] = json!(runs.len());
    line["processes"] = json!(args.processes);
    line["c"] = json!(args.concurrency);
    print_line("limits", line);
    Ok(())
}

/// The limits of the variant on the `bench` queue (`keys` uses the default
/// key class: one job per key at a time).
async fn set_limits(client: &Client, flow: FlowBench) -> Result<(), String> {
    let limits = match flow {
        FlowBench::Running => QueueLimits {
            max_running: Some(RUNNING_LIMIT),
            rate: None,
        },
        FlowBench::Keys => return Ok(()),
        FlowBench::Strict | FlowBench::Bucket => QueueLimits {
            max_running: None,
            rate: Some(if flow == FlowBench::Strict {
                RateLimit::strict(RATE, Duration::from_secs(1))
            } else {
                RateLimit::bucket(RATE, Duration::from_secs(1))
            }),
        },
    };
    client
        .admin()
        .set_queue_limits("bench", limits)
        .await
        .map_err(|e| e.to_string())
}

/// Waits until nothing of the `bench` queue waits or runs.
async fn wait_until_drained(client: &Client) -> Result<(), String> {
    let admin = client.admin();
    loop {
        let info = admin.queue("bench").await.map_err(|e| e.to_string())?;
        if info.ready == 0 && info.keyed == 0 && info.active == 0 && info.retry == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Busy slots ÷ `slots`, averaged from the first start to the last end.
fn utilisation(runs: &[(i64, i64)], slots: u64) -> Value {
    let first = runs.iter().map(|r| r.0).min().unwrap_or(0);
    let last = runs.iter().map(|r| r.1).max().unwrap_or(0);
    let busy_ns: i64 = runs.iter().map(|(start, end)| end - start).sum();
    let span_s = (last - first) as f64 / 1e9;
    let ideal_s = busy_ns as f64 / 1e9 / slots as f64;
    json!({
        "slots": slots,
        "utilisation": round3(if span_s > 0.0 { ideal_s / span_s } else { 0.0 }),
        "busy_slots": round3(if span_s > 0.0 { busy_ns as f64 / 1e9 / span_s } else { 0.0 }),
        "run_s": round3(span_s),
        "ideal_s": round3(ideal_s),
    })
}

/// The most starts in any 1 s window (each window opening at a start),
/// and the sustained rate.
fn window(runs: &[(i64, i64)]) -> Value {
    let mut starts: Vec<i64> = runs.iter().map(|r| r.0).collect();
    starts.sort_unstable();
    let per_ns = 1_000_000_000;
    let mut busiest = 0;
    let mut end = 0;
    for (i, start) in starts.iter().enumerate() {
        while end < starts.len() && starts[end] < start + per_ns {
            end += 1;
        }
        busiest = busiest.max(end - i);
    }
    let span_s = match (starts.first(), starts.last()) {
        (Some(first), Some(last)) => (last - first) as f64 / 1e9,
        _ => 0.0,
    };
    let after_burst = starts.len().saturating_sub(RATE as usize) as f64;
    json!({
        "limit_per_s": RATE,
        "busiest_window": busiest,
        "rate_per_s": round3(if span_s > 0.0 { after_burst / span_s } else { 0.0 }),
        "run_s": round3(span_s),
    })
}
