//! `jobqueue queues limits <queue>`: show, set or clear a queue's flow
//! limits (changes are written to the audit log).

use clap::Args;
use jobqueue_core::Client;

use jobqueue_dashboard::actions::limits::{LimitsView, RateView, apply_limits, parse_rate};

use super::audit::audit;
use super::exit::CliResult;
use super::known_queue::known_queue;
use super::output::json;

/// Options of `jobqueue queues limits`.
#[derive(Debug, Args)]
pub struct LimitsArgs {
    /// The queue.
    pub queue: String,
    /// Set: at most this many jobs of the queue running at once (all workers).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_running: Option<u32>,
    /// Set: at most this many starts per period, e.g. 100/1s, 20/500ms, 5/1m
    /// (token bucket: up to twice the limit may start within one period
    /// after a pause; `100/1s strict`: sliding window, never more than 100
    /// in any second).
    #[arg(long, value_parser = rate_arg)]
    pub rate: Option<RateView>,
    /// Remove every limit.
    #[arg(long, conflicts_with_all = ["max_running", "rate"])]
    pub clear: bool,
}

/// Parses a `--rate` value (`100/1s`) for clap.
pub(crate) fn rate_arg(text: &str) -> Result<RateView, String> {
    parse_rate(text)
}

/// `jobqueue queues limits`: without options it shows the limits; with
/// `--max-running` and/or `--rate` it replaces them (an option left out is
/// no limit); `--clear` removes them.
pub(crate) async fn limits(client: &Client, args: &LimitsArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    let queue = args.queue.as_str();
    let change = if args.clear {
        Some(None)
    } else if args.max_running.is_some() || args.rate.is_some() {
        Some(Some(LimitsView {
            max_running: args.max_running,
            rate: args.rate,
        }))
    } else {
        None
    };
    if let Some(limits) = change {
        let (action, view) = apply_limits(&admin, queue, limits).await?;
        audit(client, action, &view.audit_target(queue), 0).await;
    }
    let view = LimitsView::from(admin.queue_limits(queue).await?);
    if as_json {
        return json(&view);
    }
    println!("{queue}: {}", view.describe());
    Ok(())
}
