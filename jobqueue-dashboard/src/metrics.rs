//! `/metrics` in the Prometheus text format, rendered from the cached
//! snapshot, scaling signal and per-key waits: a scrape never costs Redis
//! more than one refresh of each per `snapshot_max_age`, however often it
//! comes.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jobqueue_core::QueueInfo;
use jobqueue_core::admin::scaling::QueueScaling;
use jobqueue_core::admin::{FlowWaits, KeyWait, WAIT_SAMPLES};

use crate::error::ApiError;
use crate::snapshot::Snapshot;
use crate::state::AppState;

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let snapshot = state.snapshot.get(&state.admin).await?;
    let scaling = state.scaling.get(&state.admin).await?;
    let waits = state.flow_waits.get(&state.admin, &snapshot.queues).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snapshot, &scaling, &waits),
    )
        .into_response())
}

/// The exposition text of one snapshot, scaling signal and set of per-key
/// waits: the per-queue families, the autoscaling families, the flow key
/// waits, then the gauges of the whole deployment (workers, Redis).
pub(crate) fn render(
    snapshot: &Snapshot,
    scaling: &[QueueScaling],
    waits: &[(String, FlowWaits)],
) -> String {
    let mut text = Exposition::default();
    queue_families(&mut text, &snapshot.queues);
    scaling_families(&mut text, scaling);
    flow_wait_families(&mut text, waits);
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

/// The waits of keyed starts, for the queues that have some: p50 and p99
/// of each of the busiest keys (at most
/// [`crate::actions::weights::WAIT_KEYS_SHOWN`]) and of the rest as
/// `key="other"`, so a queue has at most that many plus one key values.
fn flow_wait_families(text: &mut Exposition, waits: &[(String, FlowWaits)]) {
    let mut quantiles = Vec::new();
    for (queue, waits) in waits {
        let queue = escape_label(queue);
        for wait in waits.keys.iter().chain(&waits.other) {
            quantiles.extend(wait_quantiles(&queue, wait));
        }
    }
    text.family(
        "jobqueue_flow_key_wait_seconds",
        "gauge",
        "Wait from ready to started of a flow key's latest keyed starts, by quantile; \
         the busiest keys by name, the rest as key=\"other\".",
        quantiles,
    );
    text.family(
        "jobqueue_flow_key_wait_samples",
        "gauge",
        &format!("Keyed starts the flow key waits cover (the latest, at most {WAIT_SAMPLES})."),
        waits
            .iter()
            .map(|(queue, waits)| {
                (
                    format!("{{queue=\"{}\"}}", escape_label(queue)),
                    waits.samples as f64,
                )
            })
            .collect(),
    );
}

/// The p50 and p99 rows of one key (`queue` already escaped).
fn wait_quantiles(queue: &str, wait: &KeyWait) -> [(String, f64); 2] {
    let key = escape_label(&wait.key);
    [("0.5", wait.p50_ms), ("0.99", wait.p99_ms)].map(|(quantile, ms)| {
        (
            format!("{{queue=\"{queue}\",key=\"{key}\",quantile=\"{quantile}\"}}"),
            ms as f64 / 1000.0,
        )
    })
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

#[cfg(test)]
mod tests {
    use jobqueue_core::admin::{FlowWaits, KeyWait};

    use super::*;

    fn wait(key: &str, p50_ms: u64, p99_ms: u64) -> KeyWait {
        KeyWait {
            key: key.to_owned(),
            starts: 1,
            p50_ms,
            p99_ms,
            max_ms: p99_ms,
        }
    }

    #[test]
    fn flow_key_waits_are_one_series_per_key_and_quantile_with_escaped_labels() {
        let waits = vec![(
            "mail".to_owned(),
            FlowWaits {
                samples: 3,
                keys: vec![wait("t:\"a\\b\"\n", 1500, 2000)],
                other: Some(wait("other", 20, 40)),
            },
        )];
        let mut text = Exposition::default();
        flow_wait_families(&mut text, &waits);
        let series: Vec<&str> = text.out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            series,
            [
                r#"jobqueue_flow_key_wait_seconds{queue="mail",key="t:\"a\\b\"\n",quantile="0.5"} 1.5"#,
                r#"jobqueue_flow_key_wait_seconds{queue="mail",key="t:\"a\\b\"\n",quantile="0.99"} 2"#,
                r#"jobqueue_flow_key_wait_seconds{queue="mail",key="other",quantile="0.5"} 0.02"#,
                r#"jobqueue_flow_key_wait_seconds{queue="mail",key="other",quantile="0.99"} 0.04"#,
                r#"jobqueue_flow_key_wait_samples{queue="mail"} 3"#,
            ]
        );
        assert!(
            text.out
                .contains("# TYPE jobqueue_flow_key_wait_seconds gauge\n")
        );
        // No queue with keyed starts: the families' HELP and TYPE only.
        let mut empty = Exposition::default();
        flow_wait_families(&mut empty, &[]);
        assert_eq!(empty.out.lines().count(), 4, "{}", empty.out);
    }
}
