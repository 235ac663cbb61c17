//! `jobqueue stats` and `jobqueue queues`.

use jobqueue_core::{Client, QueueInfo};
use serde::Serialize;

use jobqueue_dashboard::format::duration_ms;

use super::exit::CliResult;
use super::output::{count, json, table};

#[derive(Serialize)]
struct Stats {
    totals: jobqueue_core::Totals,
    workers: usize,
    busy_slots: u64,
    total_slots: u64,
    redis: jobqueue_core::admin::ServerInfo,
    queues: Vec<QueueInfo>,
}

/// `jobqueue stats`.
pub(crate) async fn stats(client: &Client, as_json: bool) -> CliResult {
    let admin = client.admin();
    let workers = admin.workers().await?;
    let stats = Stats {
        totals: admin.totals().await?,
        busy_slots: workers.iter().map(|w| u64::from(w.busy)).sum(),
        total_slots: workers.iter().map(|w| u64::from(w.concurrency)).sum(),
        workers: workers.len(),
        redis: admin.server_info().await?,
        queues: admin.queues().await?,
    };
    if as_json {
        return json(&stats);
    }
    println!(
        "processed {}   failed {}   workers {} (busy {}/{})   {} {} ({})",
        count(stats.totals.processed),
        count(stats.totals.failed),
        stats.workers,
        stats.busy_slots,
        stats.total_slots,
        stats.redis.server.to_lowercase(),
        stats.redis.version,
        stats.redis.used_memory_human
    );
    println!();
    print_queues(&stats.queues);
    Ok(())
}

/// `jobqueue queues`.
pub(crate) async fn queues(client: &Client, as_json: bool) -> CliResult {
    let queues = client.admin().queues().await?;
    if as_json {
        return json(&queues);
    }
    print_queues(&queues);
    Ok(())
}

fn print_queues(queues: &[QueueInfo]) {
    if queues.is_empty() {
        println!("no queues yet (they appear when the first job is enqueued)");
        return;
    }
    let rows: Vec<Vec<String>> = queues
        .iter()
        .map(|q| {
            vec![
                q.name.clone(),
                count(q.ready),
                count(q.scheduled),
                count(q.retry),
                count(q.active),
                count(q.dead),
                duration_ms(q.latency_ms),
                if q.paused { "paused" } else { "" }.to_owned(),
                count(q.processed),
                count(q.failed),
            ]
        })
        .collect();
    table(
        &[
            "QUEUE",
            "READY",
            "SCHEDULED",
            "RETRY",
            "ACTIVE",
            "DEAD",
            "LATENCY",
            "PAUSED",
            "PROCESSED",
            "FAILED",
        ],
        &rows,
    );
}
