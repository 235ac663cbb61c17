//! Queues as the operator sees them: sizes, latency and counters
//! ([`QueueInfo`]), totals over every queue, pausing, resuming, purging.

use serde::Serialize;
use uuid::Uuid;

use crate::admin::handle::{Admin, BULK_BATCH};
use crate::error::Error;
use crate::store::QueueRegistry;
use crate::wire::record::{record_id_bytes, split_record, uuid_v7_millis};

/// Sizes and counters of one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueInfo {
    /// Queue name.
    pub name: String,
    /// Jobs ready to run (ready list plus priority set).
    pub ready: u64,
    /// Keyed jobs waiting in their flow keys' lists (see [`crate::admin::keys`]).
    pub keyed: u64,
    /// Scheduled jobs.
    pub scheduled: u64,
    /// Jobs waiting for a retry.
    pub retry: u64,
    /// Dead jobs.
    pub dead: u64,
    /// Jobs waiting for their parents.
    pub waiting: u64,
    /// Jobs leased by workers.
    pub active: u64,
    /// Cancelled jobs kept in the queue's cancelled set (bounded).
    pub cancelled: u64,
    /// Expired jobs kept in the queue's expired set (bounded).
    pub expired: u64,
    /// Age of the oldest ready job, ms (0 when none is ready).
    pub latency_ms: u64,
    /// True while paused.
    pub paused: bool,
    /// Of the retry jobs, durable jobs sleeping ([`crate::JobContext::sleep`]).
    pub sleeping: u64,
    /// Of the retry jobs, durable jobs parked waiting for a signal
    /// ([`crate::JobContext::wait_for_signal`]).
    pub waiting_for_signal: u64,
    /// Jobs that succeeded, all time (counted by the script that
    /// acknowledged them).
    pub processed: u64,
    /// Failed attempts, all time: attempts that failed and will be retried,
    /// and jobs buried in the dead set (counted by `retry.lua` and
    /// `bury.lua`; snoozes are not failures).
    pub failed: u64,
    /// Dead jobs trimmed by the dead-set limits, all time.
    pub dead_trimmed: u64,
    /// Jobs put back after their worker's lease lapsed, all time.
    pub reclaimed: u64,
}

/// Totals over all queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Jobs that succeeded, all time.
    pub processed: u64,
    /// Failed attempts, all time.
    pub failed: u64,
}

impl Admin {
    /// Names of all known queues (names in the registry that are not
    /// valid queue names are skipped, see [`Admin::queue_registry`]).
    pub async fn queue_names(&self) -> Result<Vec<String>, Error> {
        self.store.queue_names().await
    }

    /// The queue registry: valid names and the invalid ones that listings
    /// skip (written there by a producer that does not check names).
    pub async fn queue_registry(&self) -> Result<QueueRegistry, Error> {
        self.store.queue_registry().await
    }

    /// Every known queue with its sizes and counters.
    pub async fn queues(&self) -> Result<Vec<QueueInfo>, Error> {
        self.queue_infos(&self.store.queue_names().await?).await
    }

    /// Sizes and counters of each queue of `names`, in that order.
    pub async fn queue_infos(&self, names: &[String]) -> Result<Vec<QueueInfo>, Error> {
        let mut infos = Vec::with_capacity(names.len());
        for name in names {
            infos.push(self.queue(name).await?);
        }
        Ok(infos)
    }

    /// Sizes and counters of one queue.
    pub async fn queue(&self, name: &str) -> Result<QueueInfo, Error> {
        let q = self.store.queue_keys(name)?;
        let snapshot = self.store.queue_snapshot(&q).await?;
        let latency_ms = snapshot
            .head
            .as_deref()
            .and_then(record_ready_ms)
            .map_or(0, |ready_ms| {
                u64::try_from(snapshot.now_ms - ready_ms).unwrap_or(0)
            });
        let counter = |field: &str| snapshot.counters.get(field).copied().unwrap_or(0);
        Ok(QueueInfo {
            name: name.to_owned(),
            ready: snapshot.ready + snapshot.prioritised,
            keyed: snapshot.keyed,
            scheduled: snapshot.scheduled,
            retry: snapshot.retry,
            dead: snapshot.dead,
            waiting: snapshot.waiting,
            active: snapshot.active,
            cancelled: snapshot.cancelled,
            expired: snapshot.expired,
            latency_ms,
            paused: snapshot.paused,
            sleeping: snapshot.sleeping,
            waiting_for_signal: snapshot.waiting_for_signal,
            processed: counter("processed"),
            failed: counter("failed"),
            dead_trimmed: counter("dead_trimmed"),
            reclaimed: counter("reclaimed"),
        })
    }

    /// Processed and failed totals over all queues: the sum of the
    /// queues' counters (the scripts that end jobs count them per queue,
    /// in the queue's hash slot), read in one pipelined round trip of one
    /// HMGET per queue.
    pub async fn totals(&self) -> Result<Totals, Error> {
        let queues = self.queue_keys_all().await?;
        let stats_keys: Vec<String> = queues.iter().map(|q| q.stats().to_owned()).collect();
        let sums = self.store.sum_counters(&[stats_keys]).await?;
        let (processed, failed) = sums.first().copied().unwrap_or((0, 0));
        Ok(Totals { processed, failed })
    }

    /// Pauses `queue`: workers stop fetching from it within a second
    /// (in-flight jobs finish). Producers can still enqueue. Returns false
    /// when it was paused already (nothing changed).
    pub async fn pause(&self, queue: &str) -> Result<bool, Error> {
        let q = self.store.queue_keys(queue)?;
        let newly_paused = self.store.pause_queue(&q).await?;
        self.store.register_queues([queue]).await?;
        Ok(newly_paused)
    }

    /// Resumes a paused queue. Returns false when it was not paused
    /// (nothing changed).
    pub async fn resume(&self, queue: &str) -> Result<bool, Error> {
        let q = self.store.queue_keys(queue)?;
        self.store.resume_queue(&q).await
    }

    /// Drops every ready job of `queue`, keyed jobs waiting in their flow
    /// keys' lists included (in batches of 1000). Returns how many.
    ///
    /// The ready list and priority set are taken aside in one step, then
    /// dropped 1000 jobs per script call; a job of a batch is counted
    /// `cancelled` in its batch, and a durable job's memo is deleted, in
    /// the step that drops it, so its batch can complete and no memo is
    /// left to a TTL. Jobs left aside by an earlier purge that was
    /// interrupted are dropped first.
    pub async fn purge(&self, queue: &str) -> Result<u64, Error> {
        let q = self.store.queue_keys(queue)?;
        let mut dropped = 0;
        let mut take_ready = true;
        loop {
            let page = self.store.purge(&q, BULK_BATCH, take_ready).await?;
            dropped += page.dropped;
            take_ready &= !page.took_ready;
            if !take_ready && !page.more {
                break;
            }
        }
        loop {
            let (keyed, more) = self.store.purge_keyed(&q, BULK_BATCH).await?;
            dropped += keyed;
            if !more {
                return Ok(dropped);
            }
        }
    }
}

/// When a stored ready record became ready: its run_at, else its id's time.
fn record_ready_ms(record: &[u8]) -> Option<i64> {
    let (envelope, _) = split_record(record)?;
    let text = std::str::from_utf8(envelope).ok()?;
    if let Some(pos) = text.find(",\"run_at\":") {
        let digits: String = text[pos + 10..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        return digits.parse().ok();
    }
    let id: Uuid = std::str::from_utf8(record_id_bytes(record)?)
        .ok()?
        .parse()
        .ok()?;
    uuid_v7_millis(&id)
}
