//! `expired_leases.lua`: which workers' leases on a queue have lapsed.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Ids of workers whose lease on `queue` has lapsed (Redis clock).
    pub async fn expired_leases(
        &self,
        queue: &QueueKeys,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        SCRIPTS
            .expired_leases
            .call(&[queue.leases()])
            .arg(limit.max(1))
            .invoke(&mut self.conn.clone(), "expired_leases")
            .await
    }
}
