//! One page of live workers with the jobs each runs now: what the JSON
//! API's `/workers` and the Workers page show.

use jobqueue_core::WorkerInfo;
use jobqueue_core::admin::RunningJob;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// A worker and the jobs it runs now.
#[derive(Debug, Serialize)]
pub(crate) struct WorkerView {
    #[serde(flatten)]
    pub(crate) info: WorkerInfo,
    pub(crate) running: Vec<RunningJob>,
}

/// The live workers from `cursor` on, at most `limit` of them, with what
/// each is running; and how many live workers there are in all.
pub(crate) async fn worker_page(
    state: &AppState,
    cursor: usize,
    limit: usize,
) -> Result<(Vec<WorkerView>, usize), ApiError> {
    let all = state.admin.workers().await?;
    let total = all.len();
    let page: Vec<_> = all.into_iter().skip(cursor).take(limit).collect();
    let running = state.admin.running_jobs(&page).await?;
    let views = page
        .into_iter()
        .zip(running)
        .map(|(info, running)| WorkerView { info, running })
        .collect();
    Ok((views, total))
}
