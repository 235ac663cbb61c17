//! `batch_child_update.lua`: a parent batch learns that one of its child
//! batches ended or is open again.
//!
//! Called while applying a child queue's release outbox
//! ([`crate::store::releases`]).

use crate::store::keys::QueueKeys;
use crate::store::scripts::{Call, SCRIPTS};

/// The `batch_child_update.lua` call telling the batch `parent` (on
/// `parent_queue`) that its child batch `child` now counts as `outcome`
/// (`succeeded` | `dead` | `cancelled` | `pending`), as of the child's
/// `generation`th change.
pub(crate) fn batch_child_update_call(
    parent_queue: &QueueKeys,
    parent: &str,
    child: &str,
    outcome: &str,
    generation: u64,
) -> Call {
    let parent_key = parent_queue.batch(parent);
    SCRIPTS
        .batch_child_update
        .call(&[parent_key.as_str(), parent_queue.ready()])
        .arg(parent_queue.events())
        .arg(child)
        .arg(outcome)
        .arg(generation)
}
