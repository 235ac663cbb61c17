//! `jobqueue queues key-limits <queue> [<class>]`: show, set or clear the
//! limits of a queue's flow key classes (changes are written to the audit
//! log).

use clap::Args;
use jobqueue_core::{Client, KeyLimits};
use serde::Serialize;

use jobqueue_dashboard::actions::keys::{
    KeyClassView, apply_key_limits, class_limits, one_class_limits,
};
use jobqueue_dashboard::actions::limits::{LimitsView, RateView};

use super::audit::audit;
use super::exit::CliResult;
use super::known_queue::known_queue;
use super::limits::rate_arg;
use super::output::{json, table};

/// Options of `jobqueue queues key-limits`.
#[derive(Debug, Args)]
pub struct KeyLimitsArgs {
    /// The queue.
    pub queue: String,
    /// The key class (`customer` for keys `customer:7`); without it, every
    /// configured class is listed.
    pub class: Option<String>,
    /// Set: at most this many jobs of each key of the class running at once.
    #[arg(long, requires = "class", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_running: Option<u32>,
    /// Set: at most this many starts per key per period, e.g. 10/1s, 20/500ms,
    /// 5/1m (token bucket; `10/1s strict`: sliding window, never more than
    /// 10 in any second).
    #[arg(long, requires = "class", value_parser = rate_arg)]
    pub rate: Option<RateView>,
    /// Set: no running and no rate limit for the class's keys.
    #[arg(long, requires = "class", conflicts_with_all = ["max_running", "rate"])]
    pub unlimited: bool,
    /// Remove the class's limits: its keys run one job at a time again (the default).
    #[arg(long, requires = "class", conflicts_with_all = ["max_running", "rate", "unlimited"])]
    pub clear: bool,
}

/// `--json` without a class: the default and every configured class (the
/// shape of `GET /api/v1/queues/{queue}/key-limits`).
#[derive(Debug, Serialize)]
struct AllClasses {
    default: LimitsView,
    classes: Vec<KeyClassView>,
}

/// `jobqueue queues key-limits`: without a class, lists the configured
/// classes; with a class and no option, shows its limits; `--max-running`
/// and/or `--rate` replace them (an option left out is no limit of that
/// kind), `--unlimited` sets no limit at all, `--clear` removes them.
pub(crate) async fn key_limits(client: &Client, args: &KeyLimitsArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    let queue = args.queue.as_str();
    let Some(class) = args.class.as_deref() else {
        let classes = class_limits(&admin, queue).await?;
        if as_json {
            return json(&AllClasses {
                default: KeyLimits::DEFAULT.into(),
                classes,
            });
        }
        let mut rows: Vec<Vec<String>> = classes
            .iter()
            .map(|c| limit_row(&c.class, &c.limits))
            .collect();
        rows.push(limit_row("(any other)", &KeyLimits::DEFAULT.into()));
        table(&["CLASS", "MAX RUNNING PER KEY", "RATE PER KEY"], &rows);
        return Ok(());
    };
    let change = if args.clear {
        Some(None)
    } else if args.unlimited || args.max_running.is_some() || args.rate.is_some() {
        Some(Some(LimitsView {
            max_running: args.max_running,
            rate: args.rate,
        }))
    } else {
        None
    };
    if let Some(limits) = change {
        let (action, view) = apply_key_limits(&admin, queue, class, limits).await?;
        audit(client, action, &view.audit_target(queue), 0).await;
    }
    let view = one_class_limits(&admin, queue, class).await?;
    if as_json {
        return json(&view);
    }
    println!("{queue} {class}: {}", view.describe());
    Ok(())
}

fn limit_row(class: &str, limits: &LimitsView) -> Vec<String> {
    vec![
        class.to_owned(),
        limits
            .max_running
            .map_or("no limit".to_owned(), |m| m.to_string()),
        limits.rate.map_or("no limit".to_owned(), |r| r.text()),
    ]
}
