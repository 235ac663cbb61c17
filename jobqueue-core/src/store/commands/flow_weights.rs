//! Weighted fairness as stored: `P:{Q}:gweights`, key class or flow key →
//! weight, read by `fetch_limited.lua` at every fetch of a keyed queue
//! (deficit round-robin while the hash exists), and `P:{Q}:gcredit`, the
//! credit of the keys in the middle of their turn.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

impl Store {
    /// Every weight set on `queue`, by key class or flow key (entries that
    /// do not parse are skipped).
    pub async fn flow_weights(&self, queue: &QueueKeys) -> Result<HashMap<String, u32>, Error> {
        let raw: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(queue.flow_weights())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("flow_weights"))?;
        Ok(raw
            .into_iter()
            .filter_map(|(name, weight)| weight.parse().ok().map(|weight| (name, weight)))
            .collect())
    }

    /// Sets the weight of `name` (a key class or a flow key) on `queue`.
    pub async fn store_flow_weight(
        &self,
        queue: &QueueKeys,
        name: &str,
        weight: u32,
    ) -> Result<(), Error> {
        redis::cmd("HSET")
            .arg(queue.flow_weights())
            .arg(name)
            .arg(weight)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_flow_weight"))
    }

    /// Removes the weight of `name` on `queue`; false when it had none.
    /// Removing the last one turns weighted serving off and drops the
    /// keys' credit with it.
    pub async fn remove_flow_weight(&self, queue: &QueueKeys, name: &str) -> Result<bool, Error> {
        let (removed, left): (u64, u64) = redis::pipe()
            .atomic()
            .hdel(queue.flow_weights(), name)
            .hlen(queue.flow_weights())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("clear_flow_weight"))?;
        if left == 0 {
            redis::cmd("DEL")
                .arg(queue.flow_credit())
                .query_async::<()>(&mut self.conn.clone())
                .await
                .map_err(Error::redis("clear_flow_weight"))?;
        }
        Ok(removed > 0)
    }
}
