//! [`Probe`]: what the scenarios read to judge an implementation — through
//! the Rust operator API ([`jobqueue::Admin`]) where it has the view, and
//! raw Redis reads of the protocol's keys (docs/protocol.md) where the
//! check is about the bytes: envelopes, counters, leases, worker hashes,
//! and the run entries the `conformance.record` handler writes.

use std::collections::HashMap;

use jobqueue::JobInfo;
use jobqueue::store::keys::QueueKeys;
use jobqueue::{Admin, Client};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::failure::{Failure, Outcome};

/// Most ready jobs looked through to find one by id.
const READY_SCAN: usize = 1_000;

/// One run as `conformance.record` (or `sleep` / `crash` with a key) wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RunEntry {
    /// The job id.
    pub id: String,
    /// The 1-based attempt.
    pub attempt: u32,
    /// The language of the worker that ran it.
    pub language: String,
    /// When it started, ms since the epoch.
    pub at_ms: i64,
}

/// Reads one scenario's Redis state (under its prefix).
#[derive(Clone)]
pub struct Probe {
    client: Client,
    redis: MultiplexedConnection,
    prefix: String,
}

impl Probe {
    /// A probe over `client`'s prefix, reading with `redis`.
    pub fn new(client: Client, redis: MultiplexedConnection) -> Self {
        let prefix = client.config().prefix_str().to_owned();
        Self {
            client,
            redis,
            prefix,
        }
    }

    /// The operator API.
    pub fn admin(&self) -> Admin {
        self.client.admin()
    }

    /// The Rust client (for operator actions such as cancel).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A raw connection.
    pub fn redis(&self) -> MultiplexedConnection {
        self.redis.clone()
    }

    /// A key of the scenario's own (for `record` entries), under the prefix.
    pub fn scratch_key(&self, name: &str) -> String {
        format!("{}:conformance:{name}", self.prefix)
    }

    /// The protocol's key names for `queue`.
    pub fn keys(&self, queue: &str) -> Outcome<QueueKeys> {
        Ok(self.client.store().queue_keys(queue)?)
    }

    /// The run entries in `key`, oldest first.
    pub async fn runs(&self, key: &str) -> Outcome<Vec<RunEntry>> {
        let raw: Vec<String> = self.redis().lrange(key, 0, -1).await?;
        raw.iter()
            .map(|entry| {
                serde_json::from_str(entry).map_err(|err| {
                    Failure::new(format!(
                        "conformance.record wrote {entry:?}, not the entry of ADAPTER.md: {err}"
                    ))
                })
            })
            .collect()
    }

    /// The job as the operator API sees it, ready jobs included (`None`:
    /// in no place any more). `Admin::job` does not index the ready list
    /// and priority set; they are listed here (scenarios keep them short).
    pub async fn job(&self, queue: &str, id: &str) -> Outcome<Option<JobInfo>> {
        let uuid = parse_id(id)?;
        if let Some(job) = self.admin().job(queue, uuid).await? {
            return Ok(Some(job));
        }
        let admin = self.admin();
        let mut ready = admin.list_ready(queue, 0, READY_SCAN).await?;
        ready.extend(admin.list_prioritised(queue, 0, READY_SCAN).await?);
        Ok(ready.into_iter().find(|job| job.id == uuid))
    }

    /// The job's stored record split into its envelope (parsed) and payload
    /// bytes, wherever it waits: the jobs hash, the ready list, the
    /// priority set or a worker's active hash. `None` when it is nowhere.
    pub async fn envelope(&self, queue: &str, id: &str) -> Outcome<Option<(Value, String)>> {
        let keys = self.keys(queue)?;
        let mut redis = self.redis();
        let mut records: Vec<Vec<u8>> = Vec::new();
        if let Some(record) = redis.hget::<_, _, Option<Vec<u8>>>(keys.jobs(), id).await? {
            records.push(record);
        }
        records.extend(redis.lrange::<_, Vec<Vec<u8>>>(keys.ready(), 0, -1).await?);
        records.extend(
            redis
                .zrange::<_, Vec<Vec<u8>>>(keys.priority(), 0, -1)
                .await?,
        );
        let leased: Vec<String> = redis.zrange(keys.leases(), 0, -1).await?;
        for worker in leased {
            if let Some(record) = redis
                .hget::<_, _, Option<Vec<u8>>>(keys.active(&worker), id)
                .await?
            {
                records.push(record);
            }
        }
        for record in records {
            if record.get(7..43) == Some(id.as_bytes()) {
                return split(&record).map(Some);
            }
        }
        Ok(None)
    }

    /// The queue's counters (`P:{Q}:stats`); absent ones read 0.
    pub async fn counters(&self, queue: &str) -> Outcome<Counters> {
        let keys = self.keys(queue)?;
        let fields: HashMap<String, i64> = self.redis().hgetall(keys.stats()).await?;
        Ok(Counters(fields))
    }

    /// A worker's lease deadline on `queue` (ms, Redis clock), if it holds one.
    pub async fn lease_deadline(&self, queue: &str, worker_id: &str) -> Outcome<Option<f64>> {
        let keys = self.keys(queue)?;
        Ok(self.redis().zscore(keys.leases(), worker_id).await?)
    }

    /// The ids in a worker's active hash on `queue`.
    pub async fn active_ids(&self, queue: &str, worker_id: &str) -> Outcome<Vec<String>> {
        let keys = self.keys(queue)?;
        Ok(self.redis().hkeys(keys.active(worker_id)).await?)
    }

    /// The ids in every active hash of `queue` (all workers holding a lease).
    pub async fn all_active_ids(&self, queue: &str) -> Outcome<Vec<String>> {
        let keys = self.keys(queue)?;
        let workers: Vec<String> = self.redis().zrange(keys.leases(), 0, -1).await?;
        let mut ids = Vec::new();
        for worker in workers {
            ids.extend(self.active_ids(queue, &worker).await?);
        }
        Ok(ids)
    }

    /// The worker's info hash `P:worker:<wid>` (empty once it is gone).
    pub async fn worker_info(&self, worker_id: &str) -> Outcome<HashMap<String, String>> {
        let key = self.client.store().keys().worker(worker_id);
        Ok(self.redis().hgetall(key).await?)
    }

    /// Whether `P:workers` lists the worker.
    pub async fn listed_worker(&self, worker_id: &str) -> Outcome<bool> {
        let key = self.client.store().keys().workers();
        let score: Option<f64> = self.redis().zscore(key, worker_id).await?;
        Ok(score.is_some())
    }

    /// Redis's clock, ms.
    pub async fn now_ms(&self) -> Outcome<i64> {
        let (secs, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut self.redis()).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// How many keys exist under the prefix (SCAN).
    pub async fn key_count(&self) -> Outcome<usize> {
        let pattern = format!("{}:*", self.prefix);
        let mut redis = self.redis();
        let mut iter: redis::AsyncIter<'_, String> = redis.scan_match(&pattern).await?;
        let mut count = 0;
        while let Some(item) = iter.next_item().await {
            item?;
            count += 1;
        }
        Ok(count)
    }

    /// Pushes raw bytes onto the ready list of `queue` (poison input the
    /// producers would refuse) and wakes the workers.
    pub async fn push_raw(&self, queue: &str, record: &[u8]) -> Outcome {
        let keys = self.keys(queue)?;
        let mut redis = self.redis();
        let _: i64 = redis.rpush(keys.ready(), record).await?;
        let _: i64 = redis.publish(keys.events(), "r").await?;
        Ok(())
    }
}

/// A queue's counters.
#[derive(Debug, Clone, Default)]
pub struct Counters(pub HashMap<String, i64>);

impl Counters {
    /// The counter `name` (0 when absent).
    pub fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

fn parse_id(id: &str) -> Outcome<Uuid> {
    Uuid::parse_str(id).map_err(|err| Failure::new(format!("{id:?} is not a UUID job id: {err}")))
}

/// Splits a record at its first newline and parses the envelope.
fn split(record: &[u8]) -> Outcome<(Value, String)> {
    let newline = record.iter().position(|b| *b == b'\n').ok_or_else(|| {
        Failure::new("a stored record has no newline between envelope and payload")
    })?;
    let envelope: Value = serde_json::from_slice(&record[..newline]).map_err(|err| {
        Failure::new(format!(
            "a stored envelope is not JSON ({err}): {}",
            String::from_utf8_lossy(&record[..newline])
        ))
    })?;
    Ok((
        envelope,
        String::from_utf8_lossy(&record[newline + 1..]).into_owned(),
    ))
}
