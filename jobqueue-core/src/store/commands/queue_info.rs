//! A queue as the operator sees it: its sizes, counters, lease holders and
//! the head of its ready list in one round trip; pausing and resuming it.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// One queue's sizes and counters, read together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSnapshot {
    /// Records in the ready list.
    pub ready: u64,
    /// Records in the priority set.
    pub prioritised: u64,
    /// Jobs in the scheduled set.
    pub scheduled: u64,
    /// Jobs in the retry set.
    pub retry: u64,
    /// Jobs in the dead set.
    pub dead: u64,
    /// Jobs in the cancelled set.
    pub cancelled: u64,
    /// Jobs in the expired set.
    pub expired: u64,
    /// Whether the queue is paused.
    pub paused: bool,
    /// Keyed jobs waiting in their flow keys' lists.
    pub keyed: u64,
    /// The first record of the ready list.
    pub head: Option<Vec<u8>>,
    /// The queue's counters (`processed`, `failed`, `dead_trimmed`, …).
    pub counters: HashMap<String, u64>,
    /// Workers holding a lease (at most 1000).
    pub leases: Vec<String>,
    /// The Redis clock, ms.
    pub now_ms: i64,
}

/// Most lease holders a snapshot lists.
const MAX_LEASES_READ: isize = 1000;

impl Store {
    /// Reads `queue`'s sizes, counters and lease holders in one round trip.
    pub async fn queue_snapshot(&self, queue: &QueueKeys) -> Result<QueueSnapshot, Error> {
        // A flat tuple of the twelve replies (redis-rs reads at most 12).
        type Reply = (
            u64,
            u64,
            u64,
            u64,
            u64,
            u64,
            u64,
            (Option<String>, Option<u64>),
            Option<Vec<u8>>,
            HashMap<String, u64>,
            Vec<String>,
            (i64, i64),
        );
        let q = queue;
        let (
            ready,
            prioritised,
            scheduled,
            retry,
            dead,
            cancelled,
            expired,
            flags,
            head,
            counters,
            leases,
            now,
        ): Reply = redis::pipe()
            .llen(q.ready())
            .zcard(q.priority())
            .zcard(q.scheduled())
            .zcard(q.retry())
            .zcard(q.dead())
            .zcard(q.cancelled())
            .zcard(q.expired())
            // One reply for both (the tuple is full).
            .cmd("MGET")
            .arg(q.paused())
            .arg(q.flow_waiting())
            .lindex(q.ready(), 0)
            .hgetall(q.stats())
            .zrange(q.leases(), 0, MAX_LEASES_READ - 1)
            .cmd("TIME")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("queue_info"))?;
        Ok(QueueSnapshot {
            ready,
            prioritised,
            scheduled,
            retry,
            dead,
            cancelled,
            expired,
            paused: flags.0.is_some(),
            keyed: flags.1.unwrap_or(0),
            head,
            counters,
            leases,
            now_ms: now.0 * 1000 + now.1 / 1000,
        })
    }

    /// Pauses `queue` and tells its workers. Returns false when it was
    /// paused already.
    pub async fn pause_queue(&self, queue: &QueueKeys) -> Result<bool, Error> {
        let (newly_set,): (Option<String>,) = redis::pipe()
            .cmd("SET")
            .arg(queue.paused())
            .arg(1)
            .arg("NX")
            .publish(queue.events(), "p")
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("pause"))?;
        Ok(newly_set.is_some())
    }

    /// Resumes `queue` and tells its workers. Returns false when it was not
    /// paused.
    pub async fn resume_queue(&self, queue: &QueueKeys) -> Result<bool, Error> {
        let (removed,): (u64,) = redis::pipe()
            .del(queue.paused())
            .publish(queue.events(), "u")
            .ignore()
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("resume"))?;
        Ok(removed > 0)
    }

    /// Jobs waiting for their parents on `queue`, the jobs `workers` hold
    /// leased there, and the durable jobs sleeping and parked waiting for a
    /// signal (their indexes' entries due after `now_ms`), in one round
    /// trip.
    pub async fn waiting_and_leased(
        &self,
        queue: &QueueKeys,
        workers: &[String],
        now_ms: i64,
    ) -> Result<WaitingCounts, Error> {
        let mut pipe = redis::pipe();
        pipe.zcard(queue.waiting())
            .zcount(queue.sleeping(), format!("({now_ms}"), "+inf")
            .zcount(queue.signal_wait(), format!("({now_ms}"), "+inf");
        for worker in workers {
            pipe.hlen(queue.active(worker));
        }
        let counts: Vec<u64> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("queue_info"))?;
        match counts.as_slice() {
            [waiting, sleeping, signal_wait, active @ ..] => Ok(WaitingCounts {
                waiting: *waiting,
                active: active.iter().sum(),
                sleeping: *sleeping,
                waiting_for_signal: *signal_wait,
            }),
            _ => Err(Error::protocol("queue_info", "queue info reply is short")),
        }
    }

    /// For each group of counter hashes, the sums of their `processed` and
    /// `failed` fields: one HMGET per hash, all in one pipelined round trip
    /// (split by slot on a cluster).
    pub async fn sum_counters(&self, groups: &[Vec<String>]) -> Result<Vec<(u64, u64)>, Error> {
        if groups.iter().all(Vec::is_empty) {
            return Ok(vec![(0, 0); groups.len()]);
        }
        let mut pipe = redis::pipe();
        for key in groups.iter().flatten() {
            pipe.cmd("HMGET").arg(key).arg("processed").arg("failed");
        }
        let counts: Vec<(Option<u64>, Option<u64>)> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("counters"))?;
        let mut counts = counts.into_iter();
        Ok(groups
            .iter()
            .map(|keys| {
                counts
                    .by_ref()
                    .take(keys.len())
                    .fold((0, 0), |(p, f), (processed, failed)| {
                        (p + processed.unwrap_or(0), f + failed.unwrap_or(0))
                    })
            })
            .collect())
    }
}

/// The counts [`Store::waiting_and_leased`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingCounts {
    /// Jobs waiting for their parents.
    pub waiting: u64,
    /// Jobs leased by the workers asked about.
    pub active: u64,
    /// Durable jobs sleeping (in the retry set until they wake).
    pub sleeping: u64,
    /// Durable jobs parked waiting for a signal (in the retry set).
    pub waiting_for_signal: u64,
}
