//! The overview: live rates, totals, charts, workers, Redis, and the queues.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::queues::{invalid_names_warning, queues_table};
use crate::error::ApiError;
use crate::format::{count, rate};
use crate::security::headers::SVG_CONTENT_SECURITY_POLICY;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::chart::history_svg;
use crate::ui::layout::{Nav, page};

/// `GET /`: live rates, totals, charts, workers, Redis, and the queues.
pub(crate) async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    let snap = state.snapshot.get(&state.admin).await?;
    let ready: u64 = snap.queues.iter().map(|q| q.ready).sum();
    let dead: u64 = snap.queues.iter().map(|q| q.dead).sum();
    let stat = |label: &str, key: &str, value: String, class: &str| {
        html! {
            div class={ "card " (class) } {
                div.label { (label) }
                div.value data-stat=(key) { (value) }
            }
        }
    };
    let body = html! {
        h1 { "Overview" }
        section.cards #live-stats {
            (stat("Processed", "processed_per_second", rate(snap.processed_per_second), "good"))
            (stat("Failed", "failed_per_second", rate(snap.failed_per_second), "bad"))
            (stat("Processed, all time", "processed_total", count(snap.totals.processed), ""))
            (stat("Failed, all time", "failed_total", count(snap.totals.failed), ""))
            (stat("Ready", "ready_total", count(ready), ""))
            (stat("Dead", "dead_total", count(dead), if dead > 0 { "bad" } else { "" }))
            (stat("Workers", "workers", count(snap.workers.len() as u64), ""))
            (stat("Busy slots", "busy_slots", format!("{} / {}", snap.busy_slots, snap.total_slots), ""))
            (stat(&format!("{} {} memory", snap.redis.server, snap.redis.version), "redis_memory", snap.redis.used_memory_human.clone(), ""))
        }
        p.muted { "Live: refreshed every few seconds. " span #live-status {} }
        section.charts {
            figure {
                figcaption { "Last hour, per minute" }
                img #chart-hour src=(state.link("/charts/minutes")) alt="Processed and failed jobs per minute over the last hour" width="720" height="180";
            }
            figure {
                figcaption { "Last 30 days, per day" }
                img #chart-days src=(state.link("/charts/days")) alt="Processed and failed jobs per day over the last 30 days" width="720" height="180";
            }
        }
        h2 { "Queues" }
        (invalid_names_warning(&snap.invalid_queue_names))
        (queues_table(&state, &who, &snap.queues, &snap.queue_rates))
    };
    Ok(Html(
        page(&state, &who, Nav::Overview, "Overview", None, body).into_string(),
    ))
}

/// `/charts/minutes` (last hour) or `/charts/days` (last 30 days), as SVG.
pub(crate) async fn chart(
    State(state): State<Arc<AppState>>,
    Path(resolution): Path<String>,
) -> Result<Response, ApiError> {
    let svg = match resolution.as_str() {
        "minutes" => history_svg(
            &state.admin.minute_history(60).await?,
            "Jobs per minute, last hour",
            "%H:%M",
        ),
        "days" => history_svg(
            &state.admin.day_history(30).await?,
            "Jobs per day, last 30 days",
            "%b %d",
        ),
        _ => return Err(ApiError::not_found("no such chart: use minutes or days")),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CONTENT_SECURITY_POLICY, SVG_CONTENT_SECURITY_POLICY),
        ],
        svg,
    )
        .into_response())
}
