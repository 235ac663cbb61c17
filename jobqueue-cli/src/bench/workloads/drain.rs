//! w1: drain N pre-enqueued no-op jobs with one worker process.

use std::time::{Duration, Instant};

use jobqueue_core::{Client, ClientConfig, KeyLimits, QueueLimits, RateLimit};
use serde_json::{Value, json};

use crate::bench::args::{BenchArgs, NeverBindingLimits};
use crate::bench::child::{ChildWorker, queue_names};
use crate::bench::job::BenchJob;
use crate::bench::keyspace::delete_keys;
use crate::bench::produce::{enqueue_in_batches, run_client};
use crate::bench::report::{print_line, progress, round3};

/// Runs w1: enqueue, switch on the variant's limits, drain with one
/// worker process, print the line.
pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let n = args.jobs.unwrap_or(50_000);
    let (client, prefix) = run_client(&config).await?;
    let queues = queue_names(args.queues);
    watch_queues(&client, args, &queues).await?;
    let bulk_enqueue_s = enqueue(&client, args, n, &queues).await?;
    if let Some(variant) = args.limits {
        set_never_binding_limits(&client, &queues, variant).await?;
    }
    if args.flow_keys > 0 {
        set_flow_keys_free(&client, &queues, args).await?;
    }

    progress(format_args!(
        "w1: starting the worker (concurrency {})",
        args.concurrency
    ));
    let worker = ChildWorker::start(config.redis_url(), &prefix, args, n)?;
    let boot_s = worker.boot.as_secs_f64();
    let result = worker.result().await?;
    delete_keys(config.redis_url(), &prefix).await?;
    print_line("w1", result_line(args, n, boot_s, bulk_enqueue_s, &result));
    Ok(())
}

/// Switches on the queues' event streams and histories, as the variant says.
async fn watch_queues(client: &Client, args: &BenchArgs, queues: &[String]) -> Result<(), String> {
    let admin = client.admin();
    for queue in queues {
        if args.events {
            admin
                .set_event_stream(queue, Some(args.events_cap))
                .await
                .map_err(|err| format!("switching events on: {err}"))?;
        }
        if args.history {
            admin
                .set_history(queue, Some(100_000), None)
                .await
                .map_err(|err| format!("switching history on: {err}"))?;
        }
    }
    Ok(())
}

/// Bulk-enqueues the `n` jobs over `queues` (each unique, or failing
/// once, as the variant says); returns the seconds it took.
async fn enqueue(
    client: &Client,
    args: &BenchArgs,
    n: u64,
    queues: &[String],
) -> Result<f64, String> {
    progress(format_args!(
        "w1: bulk-enqueueing {n} jobs over {} queue(s){}",
        queues.len(),
        if args.fail_once {
            ", each failing once"
        } else {
            ""
        }
    ));
    let started = Instant::now();
    if args.in_batch {
        enqueue_one_batch(client, args, n, queues).await?;
        return Ok(started.elapsed().as_secs_f64());
    }
    enqueue_in_batches(client, n, args.batch, |client, i| {
        let mut job = BenchJob::new(i);
        job.fail_once = args.fail_once;
        job.steps = args.steps;
        let mut builder = client
            .job(job)
            .queue(queues[(i as usize) % queues.len()].clone());
        if args.tags > 0 {
            builder = builder.tags((0..args.tags).map(|k| format!("t{k}:{}", i % 1000)));
        }
        if args.flow_keys > 0 {
            builder = builder.flow_key(format!("tenant:{}", i % u64::from(args.flow_keys)));
        }
        if args.unique {
            builder.unique_for(Duration::from_secs(3600)).prepare()
        } else {
            builder.prepare()
        }
    })
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// `w1 --in-batch`: the `n` jobs as one batch on the one queue, added in
/// chunks of `--batch`, then sealed.
async fn enqueue_one_batch(
    client: &Client,
    args: &BenchArgs,
    n: u64,
    queues: &[String],
) -> Result<(), String> {
    if queues.len() != 1 || args.unique || args.fail_once {
        return Err("w1 --in-batch runs on one queue, without --unique or --fail-once".into());
    }
    let batch = client
        .batch()
        .queue(queues[0].clone())
        .description("jobqueue bench w1 --in-batch")
        .create()
        .await
        .map_err(|e| e.to_string())?;
    let chunk = args.batch.max(1) as u64;
    for start in (0..n).step_by(chunk as usize) {
        batch
            .add((start..(start + chunk).min(n)).map(BenchJob::new))
            .await
            .map_err(|e| e.to_string())?;
    }
    batch.seal().await.map_err(|e| e.to_string())
}

/// Gives `queues` flow limits far above what one worker reaches: they
/// never bind, so the run measures what switching them on costs.
async fn set_never_binding_limits(
    client: &Client,
    queues: &[String],
    variant: NeverBindingLimits,
) -> Result<(), String> {
    let running = matches!(
        variant,
        NeverBindingLimits::Running | NeverBindingLimits::Both
    );
    let rate = matches!(variant, NeverBindingLimits::Rate | NeverBindingLimits::Both);
    let never_binding = QueueLimits {
        max_running: running.then_some(1_000_000),
        rate: rate.then_some(RateLimit::bucket(
            jobqueue_core::admin::limits::MAX_RATE_LIMIT,
            Duration::from_secs(1),
        )),
    };
    for queue in queues {
        client
            .admin()
            .set_queue_limits(queue, never_binding)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Lets the `tenant` keys of `--flow-keys` run side by side (no running
/// limit), and with `--weights` gives every other key weight 3.
async fn set_flow_keys_free(
    client: &Client,
    queues: &[String],
    args: &BenchArgs,
) -> Result<(), String> {
    let admin = client.admin();
    let free = KeyLimits {
        max_running: None,
        rate: None,
    };
    for queue in queues {
        admin
            .set_key_limits(queue, "tenant", free)
            .await
            .map_err(|e| e.to_string())?;
        if args.weights {
            for key in (0..args.flow_keys).step_by(2) {
                admin
                    .set_flow_weight(queue, &format!("tenant:{key}"), 3)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// The JSON line of a run from the worker process's `result`.
fn result_line(
    args: &BenchArgs,
    n: u64,
    boot_s: f64,
    bulk_enqueue_s: f64,
    result: &Value,
) -> Value {
    let first = result["first_start_ns"].as_i64().unwrap_or(0);
    let done = result["done_ns"].as_i64().unwrap_or(0);
    let drain_s = (done - first) as f64 / 1e9;
    let mut line = json!({
        "n": n,
        "c": args.concurrency,
        "jobs_per_s": (n as f64 / drain_s).round(),
        "drain_s": round3(drain_s),
        "boot_s": round3(boot_s),
        "bulk_enqueue_s": round3(bulk_enqueue_s),
        "processed": result["processed"],
        "failed": result["failed"],
        "worker_peak_rss_mib": round3(result["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0),
    });
    if args.queues > 1 {
        line["queues"] = json!(args.queues);
    }
    if args.fail_once {
        line["fail_once"] = json!(true);
    }
    if let Some(variant) = args.limits {
        line["limits"] = json!(variant.as_str());
    }
    if args.unique {
        line["unique"] = json!(true);
    }
    if args.in_batch {
        line["in_batch"] = json!(true);
    }
    if args.steps > 0 {
        line["steps"] = json!(args.steps);
    }
    if args.tags > 0 {
        line["tags"] = json!(args.tags);
    }
    if args.flow_keys > 0 {
        line["flow_keys"] = json!(args.flow_keys);
    }
    if args.weights {
        line["weights"] = json!(true);
    }
    if args.logs {
        line["logs"] = json!(true);
    }
    if args.events {
        line["events"] = json!(true);
    }
    if args.history {
        line["history"] = json!(true);
    }
    line
}
