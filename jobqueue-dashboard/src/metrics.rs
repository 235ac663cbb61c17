//! `/metrics` in the Prometheus text format, rendered from the cached
//! snapshot: a scrape never costs Redis more than one snapshot refresh per
//! `snapshot_max_age`, however often it comes.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jobqueue_core::QueueInfo;
use jobqueue_core::admin::scaling::QueueScaling;

use crate::error::ApiError;
use crate::snapshot::Snapshot;
use crate::state::AppState;

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let snapshot = state.snapshot.get(&state.admin).await?;
    let scaling = state.scaling.get(&state.admin).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snapshot, &scaling),
    )
        .into_response())
}

/// The exposition text of one snapshot and scaling signal: the per-queue
/// families, the autoscaling families, then the gauges of the whole
/// deployment (workers, Redis).
pub(crate) fn render(snapshot: &Snapshot, scaling: &[QueueScaling]) -> String {
    let mut text = Exposition::default();
    queue_families(&mut text, &snapshot.queues);
    scaling_families(&mut text, scaling);
    deployment_gauges(&mut text, snapshot);
    text.out
}

/// The exposition text being written.
#[derive(Default)]
struct Exposition {
    out: String,
}

impl Exposition {
    /// One metric family: its help and type lines, then one line per row
    /// (`{labels}`, value).
    fn family(&mut self, name: &str, kind: &str, help: &str, rows: Vec<(String, f64)>) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(self.out, "{name}{labels} {value}");
        }
    }

    /// A family of one gauge without labels.
    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help, vec![(String::new(), value)]);
    }
}

/// The families with one series per queue.
fn queue_families(text: &mut Exposition, queues: &[QueueInfo]) {
    let per_queue = |value: &dyn Fn(&QueueInfo) -> f64| {
        queues
            .iter()
            .map(|q| (format!("{{queue=\"{}\"}}", escape_label(&q.name)), value(q)))
            .collect::<Vec<_>>()
    };
    text.family(
        "jobqueue_processed_total",
        "counter",
        "Jobs that succeeded.",
        per_queue(&|q| q.processed as f64),
    );
    text.family(
        "jobqueue_failed_total",
        "counter",
        "Failed attempts.",
        per_queue(&|q| q.failed as f64),
    );
    for (state, pick) in [
        ("ready", (|q: &QueueInfo| q.ready) as fn(&_) -> u64),
        ("scheduled", |q| q.scheduled),
        ("retry", |q| q.retry),
        ("dead", |q| q.dead),
        ("active", |q| q.active),
        ("cancelled", |q| q.cancelled),
        ("expired", |q| q.expired),
        ("sleeping", |q| q.sleeping),
        ("waiting_for_signal", |q| q.waiting_for_signal),
    ] {
        text.family(
            &format!("jobqueue_jobs_{state}"),
            "gauge",
            &format!("Jobs in the {state} state."),
            per_queue(&|q| pick(q) as f64),
        );
    }
    text.family(
        "jobqueue_queue_latency_seconds",
        "gauge",
        "Age of the oldest ready job.",
        per_queue(&|q| q.latency_ms as f64 / 1000.0),
    );
    text.family(
        "jobqueue_queue_paused",
        "gauge",
        "1 while the queue is paused.",
        per_queue(&|q| f64::from(u8::from(q.paused))),
    );
}

/// The autoscaling signal and the inputs worth graphing beside it, one
/// series per queue (`docs/deployment.md`).
fn scaling_families(text: &mut Exposition, scaling: &[QueueScaling]) {
    let per_queue = |value: &dyn Fn(&QueueScaling) -> f64| {
        scaling
            .iter()
            .map(|q| {
                (
                    format!("{{queue=\"{}\"}}", escape_label(&q.queue)),
                    value(q),
                )
            })
            .collect::<Vec<_>>()
    };
    text.family(
        "jobqueue_desired_workers",
        "gauge",
        "Worker processes the queue wants: the autoscaling signal.",
        per_queue(&|q| f64::from(q.signal.desired_workers)),
    );
    text.family(
        "jobqueue_scaling_pending_jobs",
        "gauge",
        "Jobs the signal counts as pending: ready, and due within the lead time.",
        per_queue(&|q| q.signal.pending as f64),
    );
    text.family(
        "jobqueue_scaling_jobs_per_second",
        "gauge",
        "Jobs succeeded per second over the scaling window.",
        per_queue(&|q| q.inputs.jobs_per_second),
    );
    text.family(
        "jobqueue_scaling_jobs_per_slot_second",
        "gauge",
        "Jobs one worker slot runs per second, as the signal used it (measured, else the default).",
        per_queue(&|q| q.signal.jobs_per_slot_second),
    );
}

/// The gauges of the whole deployment: workers, the queue registry, Redis.
fn deployment_gauges(text: &mut Exposition, snapshot: &Snapshot) {
    text.gauge(
        "jobqueue_workers",
        "Live worker processes.",
        snapshot.workers.len() as f64,
    );
    text.gauge(
        "jobqueue_worker_busy_slots",
        "Jobs running now over all workers.",
        snapshot.busy_slots as f64,
    );
    text.gauge(
        "jobqueue_worker_slots",
        "Concurrency over all workers.",
        snapshot.total_slots as f64,
    );
    text.gauge(
        "jobqueue_invalid_queue_names",
        "Names in the queue registry that are not valid queue names (skipped).",
        snapshot.invalid_queue_names.len() as f64,
    );
    text.gauge(
        "jobqueue_redis_used_memory_bytes",
        "Memory Redis reports in use.",
        snapshot.redis.used_memory as f64,
    );
}

/// Escapes a label value (backslash, quote, newline).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
