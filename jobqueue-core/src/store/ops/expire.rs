//! `expire.lua`: a leased job whose expiry has passed is dropped, not run.
//!
//! Called by a worker about to start a job whose
//! `expires_at` its clock says has passed.

use redis::Value;

use crate::error::Error;
use crate::store::commands::job_sets::{MAX_FINISHED_AGE_MS, MAX_FINISHED_KEPT};
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Drops the leased job `leased_id` as expired if `expires_at_ms` has
    /// passed on the Redis clock; returns whether it was dropped. A unique
    /// job's lock (`unique_digest`) is released with it; for a job with
    /// `dependents`, its expiry is recorded for them as a death (apply the
    /// outbox entry `<id>|failed` with [`Store::apply_releases`]).
    pub async fn expire_leased(
        &self,
        queue: &QueueKeys,
        active_key: &str,
        leased_id: &[u8],
        expires_at_ms: i64,
        unique_digest: Option<&str>,
        dependents: bool,
    ) -> Result<bool, Error> {
        let expired = queue.expired();
        let lock = unique_digest.map(|digest| queue.unique(digest));
        let releases = queue.releases();
        let parent = queue.parent(&String::from_utf8_lossy(leased_id));
        let mut keys = vec![active_key, &expired, queue.jobs(), queue.stats()];
        if dependents {
            keys.push(&releases);
            keys.push(&parent);
        }
        keys.extend(lock.as_deref());
        let reply: Value = SCRIPTS
            .expire
            .call(&keys)
            .arg(leased_id)
            .arg(expires_at_ms)
            .arg(MAX_FINISHED_KEPT)
            .arg(MAX_FINISHED_AGE_MS)
            .arg(if dependents { "1" } else { "0" })
            .invoke(&mut self.conn.clone(), "expire")
            .await?;
        Ok(int_reply(&reply, "expire")? == 1)
    }
}
