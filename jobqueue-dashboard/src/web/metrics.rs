//! `/metrics` in the Prometheus text format, rendered from the cached
//! snapshot: a scrape never costs Redis more than one snapshot refresh per
//! `snapshot_max_age`, however often it comes.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::snapshot::Snapshot;
use super::state::AppState;

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let snapshot = state.snapshot.get(&state.admin).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snapshot),
    )
        .into_response())
}

/// The exposition text of one snapshot.
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let per_queue = |value: &dyn Fn(&jobqueue_core::QueueInfo) -> f64| {
        snapshot
            .queues
            .iter()
            .map(|q| (format!("{{queue=\"{}\"}}", escape_label(&q.name)), value(q)))
            .collect::<Vec<_>>()
    };
    family(
        "jobqueue_processed_total",
        "counter",
        "Jobs that succeeded.",
        per_queue(&|q| q.processed as f64),
    );
    family(
        "jobqueue_failed_total",
        "counter",
        "Failed attempts.",
        per_queue(&|q| q.failed as f64),
    );
    for (state, pick) in [
        (
            "ready",
            (|q: &jobqueue_core::QueueInfo| q.ready) as fn(&_) -> u64,
        ),
        ("scheduled", |q| q.scheduled),
        ("retry", |q| q.retry),
        ("dead", |q| q.dead),
        ("active", |q| q.active),
        ("cancelled", |q| q.cancelled),
        ("expired", |q| q.expired),
    ] {
        let name = format!("jobqueue_jobs_{state}");
        family(
            &name,
            "gauge",
            &format!("Jobs in the {state} state."),
            per_queue(&|q| pick(q) as f64),
        );
    }
    family(
        "jobqueue_queue_latency_seconds",
        "gauge",
        "Age of the oldest ready job.",
        per_queue(&|q| q.latency_ms as f64 / 1000.0),
    );
    family(
        "jobqueue_queue_paused",
        "gauge",
        "1 while the queue is paused.",
        per_queue(&|q| f64::from(u8::from(q.paused))),
    );
    family(
        "jobqueue_workers",
        "gauge",
        "Live worker processes.",
        vec![(String::new(), snapshot.workers.len() as f64)],
    );
    family(
        "jobqueue_worker_busy_slots",
        "gauge",
        "Jobs running now over all workers.",
        vec![(String::new(), snapshot.busy_slots as f64)],
    );
    family(
        "jobqueue_worker_slots",
        "gauge",
        "Concurrency over all workers.",
        vec![(String::new(), snapshot.total_slots as f64)],
    );
    family(
        "jobqueue_invalid_queue_names",
        "gauge",
        "Names in the queue registry that are not valid queue names (skipped).",
        vec![(String::new(), snapshot.invalid_queue_names.len() as f64)],
    );
    family(
        "jobqueue_redis_used_memory_bytes",
        "gauge",
        "Memory Redis reports in use.",
        vec![(String::new(), snapshot.redis.used_memory as f64)],
    );
    out
}

/// Escapes a label value (backslash, quote, newline).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
