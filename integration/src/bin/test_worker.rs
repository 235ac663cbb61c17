//! A worker process for the process-level tests: runs `TestJob`s,
//! `NoopJob`s and `OutcomeJob`s, configured through `JQ_*` environment variables, prints
//! `READY <worker id>` once started and exits 0 after a graceful shutdown.
//!
//! `JQ_CRON=<entry name>|<cron expression>|<probe list key>` also registers
//! a cron entry that enqueues a `ProbeJob` recording into that list.
//! `JQ_IDLE_POLL_MS` sets the idle poll (default 2000); `JQ_WATCH_READY=0`
//! turns the ready watch off (default on).
//! `JQ_JOB_LOGS=1` keeps per-job logs (the capture layer installed,
//! default caps); `LogLinesJob`s are there to write them.
//! `JOBQUEUE_PAYLOAD_KEYS` gives it payload keys (docs/payload-encoding.md).

use std::time::Duration;

use jobqueue_core::cron::CronEntry;
use jobqueue_core::store::DeadLimits;
use jobqueue_core::{ClientConfig, PayloadCodec};
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::job_logs::{LogLinesJob, install_job_log_layer};
use jobqueue_integration::jobs::{NoopJob, OutcomeJob, TestJob};
use jobqueue_integration::probe::ProbeJob;
use jobqueue_worker::{JobLogs, Worker, shutdown_signal};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn env_u64(name: &str, default: u64) -> u64 {
    env(name, &default.to_string()).parse().unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let job_logs = env("JQ_JOB_LOGS", "0") == "1";
    if job_logs {
        install_job_log_layer();
    } else {
        jobqueue_integration::init_tracing();
    }
    // JOBQUEUE_PAYLOAD_KEYS / JOBQUEUE_PAYLOAD_COMPRESS_ABOVE: the payload codec.
    let config = ClientConfig::new(env("JQ_URL", "redis://127.0.0.1:6379"))
        .prefix(env("JQ_PREFIX", "jq"))
        .payload_codec(PayloadCodec::from_env()?);
    let queues: Vec<String> = env("JQ_QUEUES", "default")
        .split(',')
        .map(str::to_owned)
        .collect();
    let lease = Duration::from_millis(env_u64("JQ_LEASE_MS", 2000));
    let url = env("JQ_URL", "redis://127.0.0.1:6379");
    let mut builder = Worker::builder_with_config(config);
    if let Ok(spec) = std::env::var("JQ_CRON") {
        let parts: Vec<&str> = spec.split('|').collect();
        let [name, expression, key] = parts[..] else {
            return Err(format!("JQ_CRON must be name|expression|key, got {spec:?}").into());
        };
        builder = builder.cron_entry(CronEntry::new(name, expression, &ProbeJob::new(&url, key))?);
    }
    if job_logs {
        builder = builder.job_logs(JobLogs::new());
    }
    let worker = builder
        .register::<TestJob>()
        .register::<LogLinesJob>()
        .register::<NoopJob>()
        .register::<ProbeJob>()
        .register::<OutcomeJob>()
        .register::<jobqueue_integration::step_job::StepJob>()
        .register::<DurableJob>()
        .dead_limits(DeadLimits {
            max_jobs: env_u64("JQ_DEAD_MAX_JOBS", DeadLimits::default().max_jobs),
            ..DeadLimits::default()
        })
        .queues(queues)
        .allow_unserved_queues()
        .concurrency(env_u64("JQ_CONCURRENCY", 10) as usize)
        .lease(lease)
        .shutdown_grace(Duration::from_millis(env_u64("JQ_GRACE_MS", 5000)))
        .limit_recheck_interval(Duration::from_millis(env_u64("JQ_LIMIT_RECHECK_MS", 50)))
        .idle_poll_interval(Duration::from_millis(env_u64("JQ_IDLE_POLL_MS", 2000)))
        .watch_ready(env_u64("JQ_WATCH_READY", 1) != 0)
        .start()
        .await?;
    println!("READY {}", worker.worker_id());
    shutdown_signal().await;
    let report = worker.shutdown().await;
    eprintln!(
        "test_worker {} handed back {}",
        report.worker_id, report.handed_back
    );
    Ok(())
}
