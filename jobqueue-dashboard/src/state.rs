//! What every handler shares: the operator API, the configuration, the
//! CSRF tokens, the cached snapshot, scaling signal and key waits, and the checks every handler that
//! names a queue or links to a page needs.

use jobqueue_core::{Admin, JobInfo};

use crate::config::DashboardConfig;
use crate::error::ApiError;
use crate::flow_waits::FlowWaitsCache;
use crate::params;
use crate::scaling::ScalingCache;
use crate::security::csrf_tokens::CsrfTokens;
use crate::security::header_throttle::HeaderThrottle;
use crate::security::principal::Principal;
use crate::snapshot::SnapshotCache;

/// Shared state of one dashboard router.
pub(crate) struct AppState {
    pub(crate) admin: Admin,
    pub(crate) config: DashboardConfig,
    pub(crate) csrf: CsrfTokens,
    pub(crate) snapshot: SnapshotCache,
    /// The autoscaling signal (`scaling.rs`).
    pub(crate) scaling: ScalingCache,
    /// The per-key waits `/metrics` shows (`flow_waits.rs`).
    pub(crate) flow_waits: FlowWaitsCache,
    pub(crate) header_throttle: HeaderThrottle,
    /// Open event streams (`api/events.rs`), at most
    /// [`crate::api::MAX_EVENT_READERS`].
    pub(crate) event_readers: std::sync::Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// A link to `path` (which starts with `/`) under the mount point.
    pub(crate) fn link(&self, path: &str) -> String {
        format!("{}{}", self.config.base_path, path)
    }

    /// `name` when it names a known queue: 400 for an invalid name, 404
    /// for one no job was ever enqueued to.
    pub(crate) async fn known_queue(&self, name: &str) -> Result<String, ApiError> {
        let known = self.admin.queue_names().await?;
        params::queue(name, &known)
    }

    /// Decrypts `job`'s payload for `who` when the dashboard holds its key
    /// and `who`'s role may see payloads; otherwise it stays redacted
    /// (`encrypted (key k1)`). A key that fails leaves it redacted too.
    pub(crate) fn reveal_payload(&self, who: &Principal, job: &mut JobInfo) {
        if let Some(codec) = self.config.payload_keys_for(who.role)
            && let Err(err) = job.reveal_payload(codec)
        {
            tracing::debug!(job.id = %job.id, error = %err, "payload not revealed");
        }
    }
}
