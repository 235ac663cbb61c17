//! A queue's dead jobs grouped by error fingerprint, with (for operators)
//! retry and delete per group.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use maud::html;

use crate::config::Role;
use crate::error::ApiError;
use crate::format::{ago, count, short};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, csrf_field, page};
use crate::ui::links::{jobs_path, url};
use crate::ui::visible::Visible;

/// `GET /queues/{queue}/groups`.
pub(crate) async fn groups(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let groups = state.admin.dead_groups(&name).await?;
    let dead_link = state.link(&jobs_path(&name, "dead"));
    let body = html! {
        h1 { "Dead jobs of " code { (name) } ", grouped by error" }
        p.muted {
            @if groups.exact {
                "All " (count(groups.total)) " dead jobs, grouped by job type and normalised error message."
            } @else {
                "Grouped over the newest " (count(groups.sampled)) " of " (count(groups.total))
                " dead jobs; counts marked ≈ are scaled to the whole set. Retrying or deleting a group acts on every matching dead job."
            }
        }
        @if groups.groups.is_empty() {
            p.empty { "No dead jobs." }
        } @else {
            div.table-wrap { table #groups-table {
                thead { tr { th.num { "Jobs" } th { "Type" } th { "Error" } th { "Newest" } th { "" } } }
                tbody {
                    @for g in &groups.groups {
                        tr {
                            td.num { @if !groups.exact { "≈" } (count(g.estimated_count)) }
                            td { (Visible(&g.job_type)) }
                            td.error {
                                a href=(format!("{dead_link}?fingerprint={}", g.fingerprint)) { (Visible(&short(&g.message, 200))) }
                            }
                            td { (ago(g.newest_at)) }
                            td.actions {
                                @if who.role == Role::Operator {
                                    form.inline method="post" action=(state.link(&format!("/queues/{}/groups/{}/retry", url(&name), g.fingerprint))) {
                                        (csrf_field(&state, &who)) button type="submit" { "Retry this group" }
                                    }
                                    form.inline method="post" action=(state.link(&format!("/queues/{}/groups/{}/delete", url(&name), g.fingerprint))) {
                                        (csrf_field(&state, &who)) button.danger type="submit" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
    };
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Queues,
            "Error groups",
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}
