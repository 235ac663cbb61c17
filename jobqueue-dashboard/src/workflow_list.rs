//! The list of workflows the JSON API's `/workflows` and the Workflows
//! page show: filters `queue` (a known queue), `state`, `name`, `limit`.

use jobqueue_core::WorkflowSummary;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;

/// Most workflows one list shows.
const MAX_LISTED: usize = 500;

/// Reads the filters from `params` and lists the matching workflows,
/// newest first.
pub(crate) async fn workflow_list(
    state: &AppState,
    params: &Params,
) -> Result<Vec<WorkflowSummary>, ApiError> {
    let (wanted, name) = params.workflow_filter()?;
    let queue = match params.get("queue") {
        Some(queue) => Some(state.known_queue(queue).await?),
        None => None,
    };
    let limit = params.limit()?.min(MAX_LISTED);
    Ok(state
        .admin
        .list_workflows(queue.as_deref(), wanted, name.as_deref(), limit)
        .await?)
}
