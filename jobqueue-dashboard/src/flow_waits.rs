//! The per-key waits `/metrics` shows: every queue's busiest keys' waits
//! (the [`WAIT_KEYS_SHOWN`] busiest, as every surface shows them) behind a
//! [`MaxAgeCache`], so
//! scrapes cost Redis one read of each queue's wait samples per
//! `snapshot_max_age`. Queues without keyed starts (no samples) are left
//! out, which keeps the families to the queues that use flow keys.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt, stream};
use jobqueue_core::Admin;
use jobqueue_core::admin::{FlowWaits, QueueInfo};

use crate::max_age_cache::MaxAgeCache;

/// How many keys the waits tables, `/metrics` and the CLI name (the rest
/// are summed up as "other"), so their size stays bounded however many
/// keys a queue has.
pub const WAIT_KEYS_SHOWN: usize = 10;

/// Queues whose samples are read at once.
const CONCURRENT_READS: usize = 8;

/// The waits of every queue with keyed starts, read at most once per max
/// age.
pub(crate) struct FlowWaitsCache(MaxAgeCache<Vec<(String, FlowWaits)>>);

impl FlowWaitsCache {
    pub(crate) fn new(max_age: Duration) -> Self {
        Self(MaxAgeCache::new(max_age))
    }

    /// The waits of those of `queues` that have keyed starts, by queue
    /// name.
    pub(crate) async fn get(
        &self,
        admin: &Admin,
        queues: &[QueueInfo],
    ) -> Result<Arc<Vec<(String, FlowWaits)>>, jobqueue_core::Error> {
        self.0.get(|_| read(admin, queues)).await
    }
}

async fn read(
    admin: &Admin,
    queues: &[QueueInfo],
) -> Result<Vec<(String, FlowWaits)>, jobqueue_core::Error> {
    // Owned names: async blocks borrowing the slice's items make the
    // `/metrics` handler's future "not general enough" for axum.
    let names: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
    let all: Vec<(String, FlowWaits)> = stream::iter(names)
        .map(|name| async move {
            let waits = admin.flow_key_waits(&name, WAIT_KEYS_SHOWN).await?;
            Ok::<_, jobqueue_core::Error>((name, waits))
        })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    Ok(all
        .into_iter()
        .filter(|(_, waits)| waits.samples > 0)
        .collect())
}
