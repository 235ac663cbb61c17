//! The keys the scripts that move jobs waiting for parents take
//! (`enqueue_waiting.lua`, `release_child.lua`; both prepend
//! `include/deps.lua`, whose header lists them).

use crate::store::keys::QueueKeys;
use crate::store::scripts::{Call, LuaScript};

/// The keys `enqueue_waiting.lua` and `release_child.lua` take, in order.
pub(crate) fn waiting_keys(queue: &QueueKeys, job_id: &str) -> [String; 10] {
    [
        queue.waiting().to_owned(),
        queue.jobs().to_owned(),
        queue.deps(job_id),
        queue.ready().to_owned(),
        queue.priority().to_owned(),
        queue.scheduled().to_owned(),
        queue.dead().to_owned(),
        queue.stats().to_owned(),
        queue.parent(job_id),
        queue.releases(),
    ]
}

/// A call of `script` with `keys` (owned key names).
pub(crate) fn keys_call(script: &'static LuaScript, keys: &[String]) -> Call {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    script.call(&keys)
}
