//! A queue's job search: the search form (by tag, id or id prefix, job
//! type, batch, payload field), one page of what it found with "scanned N of M"
//! and a link to the next page, and for operators the bulk actions on that
//! page (retry, delete, cancel; posted with the CSRF token).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use jobqueue_core::JobState;
use jobqueue_core::admin::{SearchHit, SearchPage};
use maud::{Markup, html};

use crate::config::Role;
use crate::error::ApiError;
use crate::format::{ago, count, id_tail, short, time};
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;
use crate::ui::flash::flash;
use crate::ui::layout::{Nav, csrf_field, page};
use crate::ui::links::{job_path, jobs_path, search_path, url};
use crate::ui::visible::Visible;

/// The kinds of search the form offers: (`by` value, label, placeholder).
const KINDS: [(&str, &str, &str); 5] = [
    ("tag", "Tag", "customer:4711"),
    ("id", "Job id or its start", "0192f0c1-"),
    ("type", "Job type", "send_email"),
    ("batch", "Batch id", "0192f0c1-7e2a-7c3d-9b1e-5f4a3c2d1e0f"),
    ("field", "Payload field", "args.customer_id = 4711"),
];

/// `GET /queues/{queue}/search` (`?by=tag|id|type|batch|field&q=…`, or
/// `?tag=…` etc.; `cursor`, `limit`, `budget`). Without a query it shows
/// the form only.
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let name = state.known_queue(&name).await?;
    let params = Params::parse(query.as_deref());
    let found = if params.asks_search() {
        let search = params.search()?;
        let page = state
            .admin
            .search(
                &name,
                &search.query,
                search.cursor.as_deref(),
                search.limit,
                search.budget,
            )
            .await?;
        Some((search, page))
    } else {
        None
    };
    let (by, text) = found
        .as_ref()
        .map(|(search, _)| (search.field.0.clone(), search.field.1.clone()))
        .unwrap_or_else(|| ("tag".to_owned(), String::new()));
    let body = html! {
        h1 { "Search jobs in " a href=(state.link(&jobs_path(&name, "ready"))) { code { (name) } } }
        form.filters #search-form method="get" action=(state.link(&format!("/queues/{}/search", url(&name)))) {
            label { "By "
                select name="by" {
                    @for (value, label, _) in KINDS {
                        option value=(value) selected[value == by] { (label) }
                    }
                }
            }
            label { "Looking for " input type="text" name="q" value=(text) placeholder=(KINDS.iter().find(|k| k.0 == by).map_or("", |k| k.2)) required; }
            button type="submit" { "Search" }
        }
        p.muted {
            "A tag is an index look-up. Id prefixes, types, batches and payload fields are found by a bounded scan: "
            "each page reads at most its budget of stored jobs and continues from there."
        }
        @if let Some((search, page)) = &found {
            (summary(page))
            (results(&state, &who, &name, &search.cursor, &by, &text, page))
            (pager(&state, &name, &by, &text, search.limit, page))
        }
    };
    let title = format!("{name} · search");
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

/// "Found N; scanned X of Y".
fn summary(page: &SearchPage) -> Markup {
    html! {
        p.muted #search-summary {
            "Found " (page.hits.len()) " on this page; scanned " (count(page.scanned)) " of " (count(page.total))
            @if page.indexed { " index entries" } @else { " stored jobs" }
            @if page.next_cursor.is_some() { " — more on the next page" } @else { " — search complete" }
            "."
        }
    }
}

/// The hits, inside the bulk form for operators.
fn results(
    state: &AppState,
    who: &Principal,
    queue: &str,
    cursor: &Option<String>,
    by: &str,
    text: &str,
    page: &SearchPage,
) -> Markup {
    let operator = who.role == Role::Operator && !page.hits.is_empty();
    html! {
        form #search-bulk method="post" action=(state.link(&format!("/queues/{}/search/bulk", url(queue)))) {
            (csrf_field(state, who))
            input type="hidden" name="by" value=(by);
            input type="hidden" name="q" value=(text);
            @if let Some(cursor) = cursor { input type="hidden" name="cursor" value=(cursor); }
            @if operator {
                div.bulk-bar {
                    "On the jobs of this page: "
                    button type="submit" name="action" value="retry" { "Retry now" }
                    button.danger type="submit" name="action" value="cancel" data-confirm="Cancel the jobs of this page?" { "Cancel" }
                    button.danger type="submit" name="action" value="delete" data-confirm="Delete the jobs of this page?" { "Delete" }
                }
            }
            @if page.hits.is_empty() {
                p.empty { "No jobs found on this page." }
            } @else {
                (hits_table(state, queue, "search-table", &page.hits))
            }
        }
    }
}

/// The table of `hits` (with the element id `table_id`): what a search
/// page lists, and what a batch page shows of its jobs.
pub(crate) fn hits_table(
    state: &AppState,
    queue: &str,
    table_id: &str,
    hits: &[SearchHit],
) -> Markup {
    html! {
        div.table-wrap { table id=(table_id) {
            thead { tr { th { "Job" } th { "State" } th { "Type" } th { "Tags" } th { "When" } th { "Payload" } } }
            tbody { @for hit in hits { (hit_row(state, queue, hit)) } }
        } }
    }
}

fn hit_row(state: &AppState, queue: &str, hit: &SearchHit) -> Markup {
    let Some(job) = &hit.job else {
        return html! {
            tr {
                td.nowrap title=(hit.id) { code { (id_tail(&hit.id)) } }
                td { span.badge { "ready or ended" } }
                td {} td {} td {} td.muted { "not filed by id: waiting in the ready list, or it ended" }
            }
        };
    };
    // Ready jobs in the plain list and running ones have no page (not filed by id).
    let has_page = match job.state {
        JobState::Ready => job.flow_key.is_some(),
        JobState::Active => false,
        _ => true,
    };
    html! {
        tr {
            td.nowrap {
                @if has_page {
                    a.job-link href=(state.link(&job_path(queue, job.id))) title=(job.id) { code { (id_tail(&job.id)) } }
                } @else {
                    code title=(job.id) { (id_tail(&job.id)) }
                }
            }
            td { span class={ "badge " (job.state.as_str()) } { (job.state.as_str()) } }
            td { (Visible(job.job_type.as_deref().unwrap_or("(undecodable)"))) }
            td.tags {
                @for tag in &job.tags {
                    a.tag href=(state.link(&search_path(queue, "tag", tag))) { code { (Visible(tag)) } } " "
                }
            }
            td.nowrap title=(time(job.at.or(job.enqueued_at))) { (ago(job.at.or(job.enqueued_at))) }
            td { code.payload { (Visible(&short(&job.payload, 80))) } }
        }
    }
}

/// First and next page links, keeping the query.
fn pager(
    state: &AppState,
    queue: &str,
    by: &str,
    text: &str,
    limit: usize,
    page: &SearchPage,
) -> Markup {
    let base = state.link(&search_path(queue, by, text));
    html! {
        nav.pager {
            a.button.secondary href=(format!("{base}&limit={limit}")) { "« First" }
            @if let Some(next) = &page.next_cursor {
                @let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                a.button.secondary #next-page href=(format!("{base}&cursor={next}&limit={limit}")) { "Next »" }
            }
        }
    }
}
