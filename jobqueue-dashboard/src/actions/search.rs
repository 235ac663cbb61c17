//! Bulk actions on a search result: retry, delete or cancel the jobs one
//! search page found (operator role; each page that changed something is
//! written to the audit log). The API and the search page's form call it.

use jobqueue_core::admin::{SearchAction, SearchActionReport};

use crate::audit_log;
use crate::error::ApiError;
use crate::params::SearchParams;
use crate::security::principal::Principal;
use crate::state::AppState;

/// Parses `retry`, `delete` or `cancel`.
pub(crate) fn search_action(text: &str) -> Result<SearchAction, ApiError> {
    SearchAction::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Applies `action` to one page of `search` on `queue`.
pub(crate) async fn act_on_search(
    state: &AppState,
    who: &Principal,
    queue: &str,
    search: &SearchParams,
    action: SearchAction,
) -> Result<SearchActionReport, ApiError> {
    who.require_operator()?;
    let report = state
        .admin
        .act_on_search(
            queue,
            &search.query,
            search.cursor.as_deref(),
            action,
            search.limit,
            search.budget,
        )
        .await?;
    if report.changed > 0 {
        let (name, value) = &search.field;
        let target = format!("{queue} search {name}={value}");
        audit_log::action(state, who, action.as_str(), &target, report.changed).await;
    }
    Ok(report)
}
