//! A queue's history of finished jobs and live events: what the queue
//! keeps for watchers (and, for operators, the form to change it, posting
//! to `forms/watch.rs`), the history's counters and exporter, a search of
//! one day's history ("did job X, or a job tagged Y, run on date D?"),
//! and the live event feed.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::admin::{HistoryPage, HistoryStatus};
use maud::{Markup, html};

use crate::api::watch::HistoryQuery;
use crate::config::Role;
use crate::error::ApiError;
use crate::format::{count, time};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, csrf_field, page};
use crate::ui::links::{jobs_path, url};
use crate::ui::visible::Visible;

/// `GET /queues/{queue}/history`: switches, counters, a day's search.
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let params = Params::parse(query.as_deref());
    let name = state.known_queue(&name).await?;
    let search = HistoryQuery::parse(&params)?;
    let status = state.admin.history_status(&name).await?;
    let results = search.run(&state, &name).await?;
    let body = html! {
        h1 { "History and events of " code { (name) } }
        p.muted {
            "Off by default. When on, the scripts that start and end jobs write them in Redis, "
            "for every worker process: the live event stream (one entry per script call) and "
            "the history (one entry per finished job), each capped."
        }
        (settings_section(&state, &who, &name, &status))
        (search_section(&state, &name, &search, &results))
        (live_feed(&name, status.settings.events_cap.is_some()))
        p { a href=(state.link(&jobs_path(&name, "ready"))) { "Back to queue " (name) } }
    };
    let title = format!("{name} · history");
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

fn on_off(cap: Option<u64>) -> String {
    cap.map_or("off".to_owned(), |cap| {
        format!("on, {} entries kept", count(cap))
    })
}

fn settings_section(
    state: &AppState,
    who: &Principal,
    queue: &str,
    status: &HistoryStatus,
) -> Markup {
    let settings = &status.settings;
    html! {
        dl.facts #watch {
            dt { "Live events" } dd #watch-events { (on_off(settings.events_cap)) }
            dt { "History" } dd #watch-history { (on_off(settings.history_cap)) }
            dt { "History kept now" } dd #history-kept {
                (count(status.kept))
                @if let Some(oldest) = status.oldest { ", since " (time(Some(oldest))) }
            }
            dt { "Exporter" } dd #history-exporter {
                @match (&status.export_cursor, status.unexported) {
                    (Some(cursor), Some(unexported)) => {
                        "registered, at " code { (cursor) } " — " (count(unexported)) " not written yet"
                    }
                    _ => { "none (" code { "jobqueue history export --follow" } " registers one)" }
                }
            }
            @if settings.history_lost > 0 {
                dt { "Lost" } dd.error #history-lost {
                    (count(settings.history_lost))
                    " entries were trimmed at the hard cap before the exporter wrote them"
                }
            }
        }
        @if who.role == Role::Operator {
            form.filters method="post" action=(state.link(&format!("/queues/{}/watch", url(queue)))) #watch-form {
                (csrf_field(state, who))
                label { "Events kept " input type="number" min="100" name="events_cap" value=[settings.events_cap] placeholder="off"; }
                label { "History kept " input type="number" min="100" name="history_cap" value=[settings.history_cap] placeholder="off"; }
                label { "History hard cap " input type="number" min="100" name="history_max" value=[settings.history_max] placeholder="10 × kept"; }
                button type="submit" { "Save" }
            }
            p.muted { "Leave a field empty to turn that part off. Turning events off deletes the stream; turning the history off keeps what it holds." }
        }
    }
}

fn search_section(
    state: &AppState,
    queue: &str,
    search: &HistoryQuery,
    page: &HistoryPage,
) -> Markup {
    let filter = &search.filter;
    let date = search.date.format("%Y-%m-%d").to_string();
    let base = state.link(&format!("/queues/{}/history", url(queue)));
    let next = page.next_cursor.as_ref().map(|cursor| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("date", &date);
        for (name, value) in [
            ("job", &filter.job_id),
            ("tag", &filter.tag),
            ("type", &filter.job_type),
            ("outcome", &filter.outcome),
        ] {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        query.append_pair("cursor", cursor);
        format!("{base}?{}", query.finish())
    });
    html! {
        h2 { "Did it run?" }
        form.filters method="get" action=(base) #history-search {
            label { "Day (UTC) " input type="date" name="date" value=(date); }
            label { "Job id or prefix " input type="text" name="job" value=[filter.job_id.as_deref()]; }
            label { "Tag " input type="text" name="tag" value=[filter.tag.as_deref()]; }
            label { "Type " input type="text" name="type" value=[filter.job_type.as_deref()]; }
            label { "Outcome "
                select name="outcome" {
                    option value="" { "any" }
                    @for outcome in ["succeeded", "dead", "cancelled", "expired"] {
                        option value=(outcome) selected[filter.outcome.as_deref() == Some(outcome)] { (outcome) }
                    }
                }
            }
            button type="submit" { "Search" }
        }
        p.muted #history-scanned {
            "Scanned " (count(page.scanned as u64)) " entries of " (date)
            @if search.cursor.is_some() { " from where the last page stopped" }
            "; " (count(page.entries.len() as u64)) " match."
            @if let Some(next) = &next { " " a #history-next href=(next) { "Go on" } }
        }
        @if !page.entries.is_empty() {
            table #history-results {
                thead { tr { th { "Finished" } th { "Job" } th { "Type" } th { "Outcome" } th { "Runs" } th { "Tags" } th { "Last error" } } }
                tbody {
                    @for entry in &page.entries {
                        tr {
                            td { (time(Some(entry.finished_at))) }
                            td { code { (Visible(&entry.job_id)) } }
                            td { (Visible(&entry.job_type)) }
                            td { (Visible(&entry.outcome)) }
                            td { (entry.attempts) }
                            td { @for tag in &entry.tags { code.tag { (Visible(tag)) } " " } }
                            td { @if let Some(error) = &entry.error { (Visible(error)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The live event feed of `queue` (fed by `assets/app.js` from the
/// events endpoint), or a note that events are off.
pub(crate) fn live_feed(queue: &str, events_on: bool) -> Markup {
    html! {
        section #live-events data-queue=(queue) data-on=(events_on) {
            h2 { "Live events" }
            @if events_on {
                p.muted #live-events-status { "Connecting…" }
                ol #live-events-list {}
            } @else {
                p.muted { "Live events are off for this queue." }
            }
        }
    }
}
