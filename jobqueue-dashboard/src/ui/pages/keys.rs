//! A queue's keyed flow control: the limits of each key class and the
//! weights of key classes and flow keys (with the forms to set and clear
//! them, for operators; they post to `forms/keys.rs`), the keys with work,
//! their waiting and running jobs and weight, and how long the busiest
//! keys' latest starts waited.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::KeyLimits;
use jobqueue_core::admin::{FlowWaits, KeyWait, MAX_FLOW_WEIGHT, WAIT_SAMPLES};
use maud::{Markup, html};

use crate::actions::limits::LimitsView;
use crate::actions::weights::{self, FlowWeightView};
use crate::config::Role;
use crate::error::ApiError;
use crate::format::{count, duration_ms};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, csrf_field, page};
use crate::ui::links::{jobs_path, url};
use crate::ui::visible::Visible;

/// `GET /queues/{queue}/keys`.
pub(crate) async fn keys(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let limit = params.limit()?;
    let operator = who.role == Role::Operator;
    let info = state.admin.queue(&name).await?;
    let classes = state.admin.key_limits(&name).await?;
    let keys = state.admin.flow_keys(&name, limit).await?;
    let weights = weights::flow_weights(&state.admin, &name).await?;
    let waits = weights::key_waits(&state.admin, &name).await?;
    let body = html! {
        h1 { "Flow keys of " code { (name) } }
        p.muted {
            "Jobs with a flow key run within their key's limits across every worker process, "
            "in order within a key; a key at its limit holds back only its own jobs. "
            (info.keyed) " keyed jobs waiting."
        }
        h2 { "Limits per key class" }
        table #key-classes {
            thead { tr { th { "class" } th { "max running per key" } th { "rate per key" } @if operator { th {} } } }
            tbody {
                @for class in &classes {
                    tr {
                        td { code { (class.class) } }
                        (limit_cells(&class.limits))
                        @if operator {
                            (clear_cell(&state, &who, &name, &ClearButton {
                                what: "key-limits",
                                field: "class",
                                value: &class.class,
                                title: "Back to the default: one running job per key",
                            }))
                        }
                    }
                }
                tr.muted { td { "any other class" } (limit_cells(&KeyLimits::DEFAULT)) @if operator { td {} } }
            }
        }
        @if operator { (set_form(&state, &who, &name)) }
        h2 { "Keys with work" }
        @if keys.is_empty() {
            p.muted #no-keys { "No key has jobs waiting or running." }
        } @else {
            table #flow-keys {
                thead { tr { th { "key" } th.num { "waiting" } th.num { "running" } th { "max running" } th { "rate" } th.num { "weight" } } }
                tbody {
                    @for key in &keys {
                        tr {
                            td { code { (Visible(&key.key)) } }
                            td.num { (key.waiting) }
                            td.num { (key.running) }
                            (limit_cells(&key.limits))
                            td.num { (key.weight) }
                        }
                    }
                }
            }
            @if keys.len() >= limit {
                p.muted { "Showing the first " (limit) " keys; raise ?limit= to see more." }
            }
        }
        (weights_section(&state, &who, &name, &weights, operator))
        (waits_section(&waits))
        p { a href=(state.link(&jobs_path(&name, "ready"))) { "Back to queue " (name) } }
    };
    let title = format!("{name} · flow keys");
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

fn limit_cells(limits: &KeyLimits) -> Markup {
    html! {
        td { (limits.max_running.map_or("no limit".to_owned(), |m| m.to_string())) }
        td {
            (LimitsView::from(*limits).rate.map_or("no limit".to_owned(), |rate| rate.describe()))
        }
    }
}

/// The form that sets a class's limits.
fn set_form(state: &AppState, who: &Principal, queue: &str) -> Markup {
    let action = state.link(&format!("/queues/{}/key-limits", url(queue)));
    html! {
        h2 { "Set the limits of a class" }
        form.filters method="post" action=(action) #key-limits-form {
            (csrf_field(state, who))
            label { "Class " input type="text" name="class" required maxlength="200" placeholder="e.g. customer"; }
            label { "Max running per key " input type="number" min="1" max="1000000" name="max_running" placeholder="no limit"; }
            label { "Rate per key " input type="text" name="rate" placeholder="e.g. 10/1s"; }
            button type="submit" { "Set limits" }
        }
        p.muted {
            "The class is the text before the first \":\" of a key (customer for customer:7). "
            "Leave a field empty for no limit of that kind; both empty: the class's keys are not limited. "
            "A rate is starts/period per key: 10/1s, 20/500ms, 5/1m (a token bucket; add strict, 10/1s strict, "
            "for a sliding window: never more than the limit in any period). Applies at the next fetch."
        }
    }
}

/// What a *Clear* button posts: `field=value` to the queue's `what/clear`
/// form (`key-limits/clear` for a class's limits, `weights/clear` for a
/// weight).
struct ClearButton<'a> {
    what: &'a str,
    field: &'a str,
    value: &'a str,
    title: &'a str,
}

/// The cell with a *Clear* button, for a class's limits or a weight.
fn clear_cell(state: &AppState, who: &Principal, queue: &str, button: &ClearButton) -> Markup {
    let action = state.link(&format!("/queues/{}/{}/clear", url(queue), button.what));
    html! {
        td {
            form.inline method="post" action=(action) {
                (csrf_field(state, who))
                input type="hidden" name=(button.field) value=(button.value);
                button.secondary type="submit" title=(button.title) { "Clear" }
            }
        }
    }
}

/// The weights set (with *Clear* beside each, and the form to set one, for
/// operators).
fn weights_section(
    state: &AppState,
    who: &Principal,
    queue: &str,
    weights: &[FlowWeightView],
    operator: bool,
) -> Markup {
    html! {
        h2 { "Weights" }
        p.muted {
            "Ready keys take turns; a key's weight is its share of the starts against the other busy keys "
            "(weights 3 and 1 start jobs 3:1). A flow key's own weight wins over its class's; "
            "a key without either weighs 1."
        }
        @if weights.is_empty() {
            p.muted #no-weights { "No weights set: every key weighs 1." }
        } @else {
            table #flow-weights {
                thead { tr { th { "class or key" } th.num { "weight" } @if operator { th {} } } }
                tbody {
                    @for weight in weights {
                        tr {
                            td { code { (Visible(&weight.name)) } }
                            td.num { (weight.weight) }
                            @if operator {
                                (clear_cell(state, who, queue, &ClearButton {
                                    what: "weights",
                                    field: "name",
                                    value: &weight.name,
                                    title: "Its keys weigh 1 again (or their class's weight)",
                                }))
                            }
                        }
                    }
                }
            }
        }
        @if operator { (weight_form(state, who, queue)) }
    }
}

/// The form that sets the weight of a class or key.
fn weight_form(state: &AppState, who: &Principal, queue: &str) -> Markup {
    let action = state.link(&format!("/queues/{}/weights", url(queue)));
    html! {
        form.filters method="post" action=(action) #weight-form {
            (csrf_field(state, who))
            label { "Class or key " input type="text" name="name" required maxlength="200" placeholder="e.g. gold or tenant:4711"; }
            label { "Weight " input type="number" min="1" max=(MAX_FLOW_WEIGHT) name="weight" required placeholder="e.g. 3"; }
            button type="submit" { "Set weight" }
        }
    }
}

/// How long the busiest keys' latest starts waited (ready → leased).
fn waits_section(waits: &FlowWaits) -> Markup {
    html! {
        h2 { "Waits" }
        @if waits.samples == 0 {
            p.muted #no-waits { "No keyed job started yet." }
        } @else {
            p.muted {
                "How long jobs waited from ready to started, over the latest " (count(waits.samples))
                " starts (at most " (count(WAIT_SAMPLES as u64)) "); the busiest keys first."
            }
            table #key-waits {
                thead { tr { th { "key" } th.num { "starts" } th.num { "p50" } th.num { "p99" } th.num { "max" } } }
                tbody {
                    @for wait in &waits.keys { (wait_row(wait, false)) }
                    @if let Some(other) = &waits.other { (wait_row(other, true)) }
                }
            }
        }
    }
}

fn wait_row(wait: &KeyWait, other: bool) -> Markup {
    html! {
        tr class=[other.then_some("muted")] {
            td {
                @if other { "other keys" } @else { code { (Visible(&wait.key)) } }
            }
            td.num { (count(wait.starts)) }
            td.num { (duration_ms(wait.p50_ms)) }
            td.num { (duration_ms(wait.p99_ms)) }
            td.num { (duration_ms(wait.max_ms)) }
        }
    }
}
