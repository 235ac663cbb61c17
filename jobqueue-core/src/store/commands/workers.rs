//! Worker processes as Redis knows them: the registry of live workers
//! (`P:workers`, by last heartbeat), each one's info hash (written at every
//! heartbeat, expiring with the lease), and what each holds leased on its
//! queues.

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

    /// Publishes worker `id`'s info hash (`fields`), kept `ttl_ms`, and its
    /// place in the registry at `now_ms`, in one round trip.
    pub async fn publish_worker_info(
        &self,
        id: &str,
        fields: &[(&str, String)],
        ttl_ms: u64,
        now_ms: i64,
    ) -> Result<(), Error> {
        let info_key = self.keys.worker(id);
        redis::pipe()
            .hset_multiple(&info_key, fields)
            .ignore()
            .pexpire(&info_key, i64::try_from(ttl_ms).unwrap_or(i64::MAX))
            .ignore()
            .zadd(self.keys.workers(), id, now_ms)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("worker_info"))
    }

    /// Removes worker `id`'s info hash and registry entry (a clean exit).
    pub async fn unpublish_worker_info(&self, id: &str) -> Result<(), Error> {
        redis::pipe()
            .del(self.keys.worker(id))
            .ignore()
            .zrem(self.keys.workers(), id)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("worker_info"))
    }

    /// Drops registry entries (among the 100 oldest) of workers whose info
    /// hash expired: they stopped beating without a clean exit.
    pub async fn prune_worker_registry(&self) -> Result<(), Error> {
        const OP: &str = "prune_workers";
        let ids: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.keys.workers())
            .arg(0)
            .arg(99)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.exists(self.keys.worker(id));
        }
        let alive: Vec<bool> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        let gone: Vec<&String> = ids
            .iter()
            .zip(alive)
            .filter_map(|(id, alive)| (!alive).then_some(id))
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        redis::cmd("ZREM")
            .arg(self.keys.workers())
            .arg(&gone)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map(|_| ())
            .map_err(Error::redis(OP))
    }

    /// The ids of the jobs leased in the active hash `active_key`.
    pub async fn leased_ids(&self, active_key: &str) -> Result<Vec<Vec<u8>>, Error> {
        redis::cmd("HKEYS")
            .arg(active_key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("reconcile_fetch"))
    }
}
