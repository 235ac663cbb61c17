//! The autoscaling signal as the dashboard serves it (`/metrics`,
//! `/api/v1/scaling`, the queues page): the [`Autoscaler`] of this process
//! behind a [`MaxAgeCache`], so scrapes and KEDA polls cost Redis one read
//! per `snapshot_max_age`. Each read is also one throughput sample, so the
//! pace is measured as often as the signal is asked for.

use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::Admin;
use jobqueue_core::admin::scaling::{Autoscaler, QueueScaling, ScalingConfig};

use crate::max_age_cache::MaxAgeCache;

/// The signal of every queue, read at most once per max age.
pub(crate) struct ScalingCache {
    autoscaler: Autoscaler,
    signals: MaxAgeCache<Vec<QueueScaling>>,
}

impl ScalingCache {
    pub(crate) fn new(config: ScalingConfig, max_age: Duration) -> Self {
        Self {
            autoscaler: Autoscaler::new(config),
            signals: MaxAgeCache::new(max_age),
        }
    }

    /// Every queue's signal, by queue name.
    pub(crate) async fn get(
        &self,
        admin: &Admin,
    ) -> Result<Arc<Vec<QueueScaling>>, jobqueue_core::Error> {
        self.signals.get(|_| self.autoscaler.signals(admin)).await
    }
}
