//! `jobqueue queues weights <queue> [<name>]`: show, set or clear the
//! weights of a queue's key classes and flow keys (changes are written to
//! the audit log); `jobqueue queues key-waits <queue>`: how long the
//! busiest keys' latest starts waited.

use clap::Args;
use jobqueue_core::Client;
use jobqueue_core::admin::{KeyWait, MAX_FLOW_WEIGHT};
use serde::Serialize;

use jobqueue_dashboard::actions::weights::{
    DEFAULT_WEIGHT, FlowWeightView, apply_flow_weight, flow_weights, key_waits, one_flow_weight,
};

use super::audit::audit;
use super::exit::CliResult;
use super::known_queue::known_queue;
use super::output::{count, json, table};

/// Options of `jobqueue queues weights`.
#[derive(Debug, Args)]
pub struct WeightsArgs {
    /// The queue.
    pub queue: String,
    /// The key class (`tenant`, every key `tenant:…`) or one flow key
    /// (`tenant:4711`, wins over its class's); without it, every weight set
    /// is listed.
    pub name: Option<String>,
    /// Set: the share of starts the class's (or key's) keys get against
    /// the other busy keys, 1-1000 (a key without a weight counts 1).
    #[arg(long, requires = "name", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_FLOW_WEIGHT)))]
    pub weight: Option<u32>,
    /// Remove the weight: its keys weigh 1 again (or their class's weight).
    #[arg(long, requires = "name", conflicts_with = "weight")]
    pub clear: bool,
}

/// Options of `jobqueue queues key-waits`.
#[derive(Debug, Args)]
pub struct KeyWaitsArgs {
    /// The queue.
    pub queue: String,
}

/// `--json` without a name: the default, the largest weight and every
/// weight set (the shape of `GET /api/v1/queues/{queue}/weights`).
#[derive(Debug, Serialize)]
struct AllWeights {
    default: u32,
    max: u32,
    weights: Vec<FlowWeightView>,
}

/// `jobqueue queues weights`: without a name, lists the weights set; with
/// a name and no option, shows the weight its keys get; `--weight` sets
/// it, `--clear` removes it.
pub(crate) async fn weights(client: &Client, args: &WeightsArgs, as_json: bool) -> CliResult {
    known_queue(client, &args.queue).await?;
    let admin = client.admin();
    let queue = args.queue.as_str();
    let Some(name) = args.name.as_deref() else {
        let weights = flow_weights(&admin, queue).await?;
        if as_json {
            return json(&AllWeights {
                default: DEFAULT_WEIGHT,
                max: MAX_FLOW_WEIGHT,
                weights,
            });
        }
        let mut rows: Vec<Vec<String>> = weights
            .iter()
            .map(|w| vec![w.name.clone(), w.weight.to_string()])
            .collect();
        rows.push(vec!["(any other)".to_owned(), DEFAULT_WEIGHT.to_string()]);
        table(&["CLASS OR KEY", "WEIGHT"], &rows);
        return Ok(());
    };
    let change = if args.clear {
        Some(None)
    } else {
        args.weight.map(Some)
    };
    if let Some(weight) = change {
        let (action, view) = apply_flow_weight(&admin, queue, name, weight).await?;
        audit(client, action, &view.audit_target(queue), 0).await;
    }
    let view = one_flow_weight(&admin, queue, name).await?;
    if as_json {
        return json(&view);
    }
    println!("{queue} {name}: {}", view.describe());
    Ok(())
}

/// `jobqueue queues key-waits`: p50/p99/max waits (ready → started) of
/// the busiest keys' latest starts, and of the rest as "(other)".
pub(crate) async fn key_waits_command(
    client: &Client,
    args: &KeyWaitsArgs,
    as_json: bool,
) -> CliResult {
    known_queue(client, &args.queue).await?;
    let waits = key_waits(&client.admin(), &args.queue).await?;
    if as_json {
        return json(&waits);
    }
    if waits.samples == 0 {
        println!("{}: no keyed job started yet", args.queue);
        return Ok(());
    }
    let row = |label: String, wait: &KeyWait| {
        vec![
            label,
            count(wait.starts),
            wait.p50_ms.to_string(),
            wait.p99_ms.to_string(),
            wait.max_ms.to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = waits
        .keys
        .iter()
        .map(|wait| row(wait.key.clone(), wait))
        .collect();
    if let Some(other) = &waits.other {
        rows.push(row("(other keys)".to_owned(), other));
    }
    table(&["KEY", "STARTS", "P50 MS", "P99 MS", "MAX MS"], &rows);
    println!("over the latest {} starts", count(waits.samples));
    Ok(())
}
