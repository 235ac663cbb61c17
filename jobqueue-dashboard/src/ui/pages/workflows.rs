//! Workflows: the list (filters by queue, state and name) and one
//! workflow's page: its graph (server-drawn SVG, `/workflows/{id}/graph`),
//! the node table linking to each node's job, and (for operators) cancel.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use jobqueue_core::{NodeState, WorkflowState, WorkflowStatus, WorkflowSummary};
use maud::{Markup, html};
use uuid::Uuid;

use crate::error::ApiError;
use crate::format::time;
use crate::params::{self, Params};
use crate::security::headers::SVG_CONTENT_SECURITY_POLICY;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, confirm_button, page};
use crate::ui::links::{job_path, url, workflow_path};
use crate::ui::visible::Visible;
use crate::ui::workflow_graph::workflow_svg;
use crate::workflow_list::workflow_list;

/// `GET /workflows`.
pub(crate) async fn workflows(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let shown = workflow_list(&state, &params).await?;
    let body = html! {
        h1 { "Workflows" }
        form.filters method="get" action=(state.link("/workflows")) {
            label { "State " select name="state" {
                option value="" { "any" }
                @for s in ["incomplete", "running", "succeeded", "failed", "cancelled"] {
                    option value=(s) selected[params.get("state") == Some(s)] { (s) }
                }
            } }
            " " label { "Name " input type="text" name="name" value=(params.get("name").unwrap_or("")); }
            " " label { "Queue " input type="text" name="queue" value=(params.get("queue").unwrap_or("")); }
            " " button type="submit" class="secondary" { "Filter" }
        }
        @if shown.is_empty() {
            p.empty { "No workflows match." }
        } @else {
            div.table-wrap { table #workflows-table {
                thead { tr {
                    th { "Workflow" } th { "State" } th.num { "Pending" } th.num { "Running" }
                    th.num { "Succeeded" } th.num { "Failed" } th.num { "Skipped" } th.num { "Cancelled" }
                    th { "Queue" } th { "Created" }
                } }
                tbody { @for wf in &shown { (summary_row(&state, wf)) } }
            } }
        }
    };
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Workflows,
            "Workflows",
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}

fn summary_row(state: &AppState, wf: &WorkflowSummary) -> Markup {
    html! {
        tr data-workflow=(wf.id) {
            td { a href=(state.link(&workflow_path(wf.id))) { (Visible(&wf.name)) } div.muted { code { (wf.id) } } }
            td { span class={ "badge " (wf.state.as_str()) } { (wf.state.as_str()) } }
            td.num { (wf.counts.pending) } td.num { (wf.counts.running) }
            td.num { (wf.counts.succeeded) } td.num { (wf.counts.failed) }
            td.num { (wf.counts.skipped) } td.num { (wf.counts.cancelled) }
            td { (wf.queue) }
            td.nowrap { (time(wf.created_at)) }
        }
    }
}

/// `GET /workflows/{id}`.
pub(crate) async fn workflow(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let id = params::job_id(&id)?;
    let params = Params::parse(query.as_deref());
    let status = state.admin.workflow(id).await?;
    let body = detail(&state, &who, &status);
    Ok(Html(
        page(
            &state,
            &who,
            Nav::Workflows,
            "Workflow",
            flash(&params).as_deref(),
            body,
        )
        .into_string(),
    ))
}

fn detail(state: &AppState, who: &Principal, status: &WorkflowStatus) -> Markup {
    let wf = &status.summary;
    let graph = state.link(&format!("{}/graph", workflow_path(wf.id)));
    html! {
        h1 { "Workflow " (Visible(&wf.name)) }
        p.muted {
            code #workflow-id { (wf.id) } " · recorded on queue " code { (wf.queue) }
            " · created " (time(wf.created_at))
            @if wf.retries > 0 { " · retried " (wf.retries) " time(s)" }
        }
        p { span #workflow-state class={ "badge " (wf.state.as_str()) } { (wf.state.as_str()) } }
        @if matches!(wf.state, WorkflowState::Running | WorkflowState::Incomplete) {
            div.bulk-bar {
                (confirm_button(state, who, &state.link(&format!("{}/cancel", workflow_path(wf.id))), "Cancel workflow", "danger", Some("cancel-workflow"), Some("Cancel every node of this workflow that may still run?")))
            }
        }
        section.charts {
            img #workflow-graph src=(graph) alt="Graph of the workflow's nodes, coloured by state";
        }
        h2 { "Nodes" }
        p.muted { "Retry from a failed node (its button, or " code { "jobqueue workflow <id> --retry-from <node>" } ") re-runs that node and everything downstream, keeping the results of what succeeded." }
        div.table-wrap { table #nodes-table {
            thead { tr { th { "Node" } th { "State" } th { "Queue" } th { "Job" } th.num { "Reruns" } th { "Error" } th { "Actions" } } }
            tbody {
                @for node in &status.nodes {
                    tr data-node=(node.name) {
                        td { (Visible(&node.name)) div.muted { (Visible(&node.job_type)) } }
                        td { span class={ "badge " (node.state.as_str()) } { (node.state.as_str()) } }
                        td { (node.queue) }
                        td { a href=(state.link(&job_path(&node.queue, node.job_id))) { code { (node.job_id) } } }
                        td.num { (node.reruns) }
                        td { @if let Some(error) = &node.error { span.error { (Visible(error)) } } }
                        td { @if matches!(node.state, NodeState::Failed | NodeState::Skipped | NodeState::Cancelled) {
                            (confirm_button(state, who, &retry_from_link(state, wf.id, &node.name), "Retry from here", "", None, Some("Re-run this node and every node downstream of it?")))
                        } }
                    }
                }
            }
        } }
    }
}

/// The retry form's action for node `node` (a path segment: percent-encoded,
/// a space as `%20`).
fn retry_from_link(state: &AppState, id: Uuid, node: &str) -> String {
    let segment = url(node).replace('+', "%20");
    state.link(&format!("{}/retry-from/{segment}", workflow_path(id)))
}

/// `GET /workflows/{id}/graph`: the graph as SVG.
pub(crate) async fn graph(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = params::job_id(&id)?;
    let status = state.admin.workflow(id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CONTENT_SECURITY_POLICY, SVG_CONTENT_SECURITY_POLICY),
        ],
        workflow_svg(&status),
    )
        .into_response())
}
