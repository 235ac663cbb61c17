//! Links between the pages, under the dashboard's mount point.

use uuid::Uuid;

use crate::state::AppState;

/// Percent-encodes a path segment (queue names are plain ASCII, but `:`
/// and `.` are allowed and must survive).
pub(crate) fn url(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// The path of `queue`'s list of jobs in `list` (`ready`, `dead`, ...),
/// relative to the mount point.
pub(crate) fn jobs_path(queue: &str, list: &str) -> String {
    format!("/queues/{}/jobs/{list}", url(queue))
}

/// The path of job `id`'s page, relative to the mount point.
pub(crate) fn job_path(queue: &str, id: Uuid) -> String {
    format!("/queues/{}/job/{id}", url(queue))
}

/// Where the job page's action `what` (`retry`, `delete`, `cancel`) posts to.
pub(crate) fn job_action_link(state: &AppState, queue: &str, id: Uuid, what: &str) -> String {
    state.link(&format!("{}/{what}", job_path(queue, id)))
}

/// The path of workflow `id`'s page, relative to the mount point.
pub(crate) fn workflow_path(id: Uuid) -> String {
    format!("/workflows/{id}")
}

/// The page of batch `id` on `queue`.
pub(crate) fn batch_path(queue: &str, id: Uuid) -> String {
    format!("/queues/{}/batches/{id}", url(queue))
}

/// The batches page of `queue`.
pub(crate) fn batches_path(queue: &str) -> String {
    format!("/queues/{}/batches", url(queue))
}

/// The search page of `queue` looking for `value` by `by` (`tag`, `id`,
/// `type`, `field`), relative to the mount point.
pub(crate) fn search_path(queue: &str, by: &str, value: &str) -> String {
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("/queues/{}/search?by={by}&q={value}", url(queue))
}
