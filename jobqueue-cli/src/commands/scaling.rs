//! `jobqueue scaling`: the autoscaling signal of every queue (or one), as
//! the dashboard serves it on `/api/v1/scaling` and `/metrics`. Throughput
//! needs two readings: the command reads twice, `--sample-seconds` apart
//! (0: one reading, the configured default pace).

use std::time::Duration;

use clap::Args;
use jobqueue_core::Client;
use jobqueue_core::admin::scaling::{Autoscaler, QueueScaling, ScalingConfig};

use super::exit::{CliError, CliResult, EXIT_USAGE};
use super::known_queue::known_queue;
use super::output::{count, json, table};

/// Options of `jobqueue scaling`.
#[derive(Debug, Clone, Args)]
pub struct ScalingArgs {
    /// Only this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Seconds between the two readings that measure throughput (0: one
    /// reading).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub sample_seconds: u64,
    /// The targets (`--scaling`, `JOBQUEUE_SCALING`).
    #[command(flatten)]
    pub targets: ScalingTargetsArg,
}

/// The scaling targets, shared by `jobqueue scaling` and `jobqueue serve`.
#[derive(Debug, Clone, Args)]
pub struct ScalingTargetsArg {
    /// Scaling targets per queue, e.g. "* latency_target=30 lead_time=120
    /// concurrency=10 min=0 max=20; mail latency_target=5 max=50" (see
    /// docs/deployment.md); default: those values for every queue.
    #[arg(long = "scaling", env = "JOBQUEUE_SCALING")]
    pub scaling: Option<String>,
}

impl ScalingTargetsArg {
    /// The parsed targets, or a usage error naming what is wrong.
    pub fn config(&self) -> Result<ScalingConfig, CliError> {
        match &self.scaling {
            None => Ok(ScalingConfig::default()),
            Some(text) => ScalingConfig::parse(text)
                .map_err(|e| CliError::new(EXIT_USAGE, format!("--scaling: {e}"))),
        }
    }
}

/// `jobqueue scaling`.
pub(crate) async fn scaling(client: &Client, args: &ScalingArgs, as_json: bool) -> CliResult {
    let autoscaler = Autoscaler::new(args.targets.config()?);
    if let Some(queue) = &args.queue {
        known_queue(client, queue).await?;
    }
    let admin = client.admin();
    if args.sample_seconds > 0 {
        autoscaler.signals(&admin).await?;
        tokio::time::sleep(Duration::from_secs(args.sample_seconds)).await;
    }
    let signals: Vec<QueueScaling> = autoscaler
        .signals(&admin)
        .await?
        .into_iter()
        .filter(|s| args.queue.as_ref().is_none_or(|q| *q == s.queue))
        .collect();
    if as_json {
        return json(&signals);
    }
    if signals.is_empty() {
        println!("no queues yet (they appear when the first job is enqueued)");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = signals
        .iter()
        .map(|s| {
            vec![
                s.queue.clone(),
                s.signal.desired_workers.to_string(),
                count(s.signal.pending),
                count(s.inputs.running),
                count(
                    s.inputs
                        .scheduled_due
                        .saturating_add(s.inputs.retry_due)
                        .saturating_add(s.inputs.cron_due),
                ),
                format!("{:.2}", s.inputs.jobs_per_second),
                format!(
                    "{:.2}{}",
                    s.signal.jobs_per_slot_second,
                    if s.signal.measured { "" } else { " (default)" }
                ),
                format!("{}-{}", s.targets.min_workers, s.targets.max_workers),
            ]
        })
        .collect();
    table(
        &[
            "QUEUE",
            "DESIRED",
            "PENDING",
            "RUNNING",
            "DUE SOON",
            "JOBS/S",
            "JOBS/SLOT/S",
            "MIN-MAX",
        ],
        &rows,
    );
    Ok(())
}
