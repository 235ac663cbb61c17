//! Worker processes as Redis knows them: the registry of live workers
//! (`P:workers`, by last heartbeat), each one's info hash, and what each
//! holds leased on its queues.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

impl Store {
    /// The info hashes of up to `count` workers, most recent heartbeat
    /// first (two round trips).
    pub async fn worker_hashes(&self, count: usize) -> Result<Vec<HashMap<String, String>>, Error> {
        const OP: &str = "workers";
        let ids: Vec<String> = redis::cmd("ZREVRANGE")
            .arg(self.keys.workers())
            .arg(0)
            .arg(count.max(1) - 1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(self.keys.worker(id));
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))
    }

    /// The records each (queue, worker) pair holds leased, in order: one
    /// pipelined `HVALS` per pair.
    pub async fn leased_records_of(
        &self,
        leases: &[(QueueKeys, &str)],
    ) -> Result<Vec<Vec<Vec<u8>>>, Error> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (queue, worker) in leases {
            pipe.cmd("HVALS").arg(queue.active(worker));
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("running_jobs"))
    }
}
