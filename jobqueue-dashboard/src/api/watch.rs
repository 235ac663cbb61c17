//! What a queue keeps for watchers and its history of finished jobs:
//! `GET`/`PUT /queues/{queue}/watch` (the [`WatchView`] switches),
//! `GET /queues/{queue}/history` (a bounded search of one day: `date`
//! `YYYY-MM-DD`, optional `job` id or id prefix, `tag`, `type`,
//! `outcome`, `cursor`, `budget`) and `GET /queues/{queue}/history/status`
//! (counters, what is kept, the exporter's progress).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::{NaiveDate, Utc};
use jobqueue_core::admin::{
    DEFAULT_HISTORY_BUDGET, HistoryFilter, HistoryPage, HistoryStatus, MAX_HISTORY_BUDGET,
};

use crate::actions::watch::{self, WatchView};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::security::principal::Principal;
use crate::state::AppState;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/queues/{queue}/watch", get(show).put(replace))
        .route("/queues/{queue}/history", get(history))
        .route("/queues/{queue}/history/status", get(status))
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
) -> Result<Json<WatchView>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    Ok(Json(WatchView::from(
        &state.admin.watch_settings(&queue).await?,
    )))
}

/// The body is a [`WatchView`]: a missing cap turns that part off.
async fn replace(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Principal>,
    Path(queue): Path<String>,
    body: Bytes,
) -> Result<Json<WatchView>, ApiError> {
    let view: WatchView = params::json_body(&body)?;
    let queue = state.known_queue(&queue).await?;
    Ok(Json(watch::set_watch(&state, &who, &queue, view).await?))
}

/// The search a history request asks for: its day, filter, cursor and
/// budget (shared with the history page).
pub(crate) struct HistoryQuery {
    pub(crate) date: NaiveDate,
    pub(crate) filter: HistoryFilter,
    pub(crate) cursor: Option<String>,
    pub(crate) budget: usize,
}

impl HistoryQuery {
    /// Reads `date` (default today, UTC), `job`, `tag`, `type`, `outcome`,
    /// `cursor` and `budget` (default [`DEFAULT_HISTORY_BUDGET`]).
    pub(crate) fn parse(params: &Params) -> Result<Self, ApiError> {
        let date = match params.get("date").filter(|d| !d.is_empty()) {
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                ApiError::bad_request(format!("date must be YYYY-MM-DD, not {text:?}"))
            })?,
            None => Utc::now().date_naive(),
        };
        let text = |name: &str| {
            params
                .get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let outcome = text("outcome");
        if let Some(outcome) = &outcome
            && !["succeeded", "dead", "cancelled", "expired"].contains(&outcome.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "outcome must be succeeded, dead, cancelled or expired, not {outcome:?}"
            )));
        }
        let budget = params.number("budget", DEFAULT_HISTORY_BUDGET as u64)?;
        if budget == 0 || budget > MAX_HISTORY_BUDGET as u64 {
            return Err(ApiError::bad_request(format!(
                "budget must be 1 to {MAX_HISTORY_BUDGET}"
            )));
        }
        Ok(Self {
            date,
            filter: HistoryFilter {
                job_id: text("job"),
                tag: text("tag"),
                job_type: text("type"),
                outcome,
            },
            cursor: text("cursor"),
            budget: usize::try_from(budget).unwrap_or(MAX_HISTORY_BUDGET),
        })
    }

    /// Runs the search on `queue`.
    pub(crate) async fn run(&self, state: &AppState, queue: &str) -> Result<HistoryPage, ApiError> {
        Ok(state
            .admin
            .history_search(
                queue,
                self.date,
                &self.filter,
                self.cursor.as_deref(),
                self.budget,
            )
            .await?)
    }
}

async fn history(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<HistoryPage>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    let search = HistoryQuery::parse(&Params::parse(query.as_deref()))?;
    Ok(Json(search.run(&state, &queue).await?))
}

async fn status(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
) -> Result<Json<HistoryStatus>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    Ok(Json(state.admin.history_status(&queue).await?))
}
