//! A queue's flow limits: the page that shows them and, for operators,
//! the forms to set or clear them (they post to `forms/limits.rs`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use maud::html;

use crate::actions::limits::LimitsView;
use crate::config::Role;
use crate::error::ApiError;
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, csrf_field, page};
use crate::ui::links::{jobs_path, url};

/// `GET /queues/{queue}/limits`.
pub(crate) async fn limits(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let name = state.known_queue(&name).await?;
    let limits = LimitsView::from(state.admin.queue_limits(&name).await?);
    let base = state.link(&format!("/queues/{}/limits", url(&name)));
    let rate_text = limits.rate.map(|r| r.text());
    let body = html! {
        h1 { "Flow limits of " code { (name) } }
        p.muted {
            "Enforced in Redis across every worker process: at most this many jobs of the queue running at once, "
            "and at most this many started per period. Workers apply a change within a second."
        }
        dl.facts #limits {
            dt { "Max running" } dd #limit-max-running { (limits.max_running.map_or("no limit".to_owned(), |m| m.to_string())) }
            dt { "Rate" } dd #limit-rate {
                (limits.rate.map_or("no limit".to_owned(), |r| r.describe()))
            }
        }
        @if who.role == Role::Operator {
            h2 { "Change" }
            form.filters method="post" action=(base) #limits-form {
                (csrf_field(&state, &who))
                label { "Max running " input type="number" min="1" max="1000000" name="max_running" value=[limits.max_running] placeholder="no limit"; }
                label { "Rate " input type="text" name="rate" value=[rate_text.as_deref()] placeholder="e.g. 100/1s"; }
                button type="submit" { "Set limits" }
            }
            p.muted {
                "Leave a field empty for no limit. A rate is starts/period: 100/1s, 20/500ms, 5/1m — a token bucket, "
                "which lets up to twice the limit start within one period after a pause. Add "
                code { "strict" } " (100/1s strict) for a sliding window: never more than the limit in any period."
            }
            form.inline method="post" action=(format!("{base}/clear")) {
                (csrf_field(&state, &who))
                button.secondary type="submit" #clear-limits { "Clear all limits" }
            }
        }
        p { a href=(state.link(&jobs_path(&name, "ready"))) { "Back to queue " (name) } }
    };
    let title = format!("{name} · limits");
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Queues,
            &title,
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}
