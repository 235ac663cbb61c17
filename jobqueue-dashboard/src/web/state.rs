//! What every handler shares.

use jobqueue_core::Admin;

use super::config::DashboardConfig;
use super::csrf::CsrfTokens;
use super::snapshot::SnapshotCache;

/// Shared state of one dashboard router.
pub(crate) struct AppState {
    pub(crate) admin: Admin,
    pub(crate) config: DashboardConfig,
    pub(crate) csrf: CsrfTokens,
    pub(crate) snapshot: SnapshotCache,
}

impl AppState {
    /// A link to `path` (which starts with `/`) under the mount point.
    pub(crate) fn link(&self, path: &str) -> String {
        format!("{}{}", self.config.base_path, path)
    }
}
