//! The alert rules with their state (ok or firing), last firing and
//! counts, the sinks with their rate-limit counts, and the evaluator
//! leading now.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Html;
use maud::html;

use crate::alerts::alerts_overview;
use crate::error::ApiError;
use crate::format::{count, time};
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::layout::{Nav, page};
use crate::ui::visible::Visible;

/// `GET /alerts`.
pub(crate) async fn alerts(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    let overview = alerts_overview(&state.admin, state.config.alerts.as_deref()).await?;
    let body = html! {
        h1 { "Alerts" }
        @if !overview.configured {
            p.empty {
                "No alert rules are configured in this dashboard process. Set "
                code { "JOBQUEUE_ALERTS_FILE" } " (see docs/alerts.md)."
            }
        } @else {
            p.muted {
                "Evaluated every " (overview.interval_secs) " s by one dashboard process: "
                @match &overview.leader {
                    Some(leader) => { code { (Visible(leader)) } " leads" }
                    None => { "no evaluator leads right now" }
                }
                ". A rule fires once per fingerprint within its cool-down; each firing is in the audit log."
            }
            div.table-wrap { table #alert-rules {
                thead { tr {
                    th { "Rule" } th { "Condition" } th { "State" } th { "Last checked" }
                    th { "Last fired" } th { "Last message" } th.num { "Fired" } th.num { "Deduplicated" }
                    th.num { "Suppressed" } th { "Last delivery" }
                } }
                tbody {
                    @for rule in &overview.rules {
                        tr {
                            td { (Visible(&rule.name)) }
                            td { span.badge { (rule.kind) } " " (Visible(&rule.condition)) }
                            td {
                                @match rule.state.status.as_deref() {
                                    Some("firing") => span.badge.failed { "firing" },
                                    Some("ok") => span.badge.succeeded { "ok" },
                                    _ => span.badge { "not checked yet" },
                                }
                            }
                            td.nowrap { (time(rule.state.checked_at)) }
                            td.nowrap { (time(rule.state.last_fired_at)) }
                            td { (Visible(rule.state.last_message.as_deref().unwrap_or(""))) }
                            td.num { (count(rule.state.fired)) }
                            td.num { (count(rule.state.deduped)) }
                            td.num { (count(rule.state.suppressed)) }
                            td { (Visible(rule.state.last_delivery.as_deref().unwrap_or(""))) }
                        }
                    }
                }
            } }
            h2 { "Sinks" }
            div.table-wrap { table #alert-sinks {
                thead { tr {
                    th { "Sink" } th { "Host" } th { "Signed" } th.num { "Limit / min" }
                    th.num { "Sent this minute" } th.num { "Suppressed (total)" }
                } }
                tbody {
                    @for sink in &overview.sinks {
                        tr {
                            td { (Visible(&sink.name)) }
                            td { code { (Visible(&sink.host)) } }
                            td { @if sink.signed { "yes" } @else { "no" } }
                            td.num { (sink.max_per_minute) }
                            td.num { (count(sink.state.sent_this_minute)) }
                            td.num { (count(sink.state.suppressed_total)) }
                        }
                    }
                }
            } }
        }
    };
    Ok(Html(
        page(&state, &who, Nav::Alerts, "Alerts", None, body).into_string(),
    ))
}
