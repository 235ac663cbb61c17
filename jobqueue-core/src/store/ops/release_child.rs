//! `release_child.lua`: tell a waiting job that one of its parents ended.
//!
//! Called while applying the release outbox ([`crate::store::releases`]).

use crate::store::keys::QueueKeys;
use crate::store::scripts::{Call, SCRIPTS};
use crate::store::waiting_keys::{keys_call, waiting_keys};

/// The `release_child.lua` call telling job `child_id` (on `child_queue`)
/// that its parent `parent` ended with `outcome` (`succeeded` | `failed`).
pub(crate) fn release_child_call(
    child_queue: &QueueKeys,
    child_id: &str,
    parent: &str,
    outcome: &str,
) -> Call {
    keys_call(&SCRIPTS.release_child, &waiting_keys(child_queue, child_id))
        .arg(child_queue.events())
        .arg(child_id)
        .arg(parent)
        .arg(outcome)
}
