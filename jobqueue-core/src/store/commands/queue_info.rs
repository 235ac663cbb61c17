//! A queue as the operator sees it: its sizes, counters, lease holders and
//! the head of its ready list, read as of one moment; pausing and resuming
//! it.

use std::collections::HashMap;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// One queue's sizes and counters, read together: as of one moment (one
/// `MULTI`/`EXEC`), so a job moving between two places while they are read
/// is counted in exactly one of them.
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
    /// Jobs those workers hold leased.
    pub active: u64,
    /// Jobs waiting for their parents.
    pub waiting: u64,
    /// Durable jobs sleeping (in the retry set until they wake).
    pub sleeping: u64,
    /// Durable jobs parked waiting for a signal (in the retry set).
    pub waiting_for_signal: u64,
    /// The Redis clock, ms.
    pub now_ms: i64,
}

/// Most lease holders a snapshot lists.
const MAX_LEASES_READ: isize = 1000;

/// Reads of the whole snapshot before the lease holders are taken as they
/// were at the last one (they change when a worker starts or stops).
const SNAPSHOT_READS: usize = 3;

impl Store {
    /// Reads `queue`'s sizes, counters, lease holders and the jobs they
    /// hold, as of one moment.
    ///
    /// Which workers' active hashes to count is known only from the leases,
    /// so a first round trip reads the lease holders and the clock; the
    /// second reads everything in one `MULTI`/`EXEC`, the lease holders
    /// again among it. Should those have changed in between (a worker
    /// started or stopped), the second is sent again for the new holders,
    /// up to three times in all. (Read in two pipelines, as it once
    /// was, a job acknowledged between them was in neither the active
    /// count nor `processed`.)
    pub async fn queue_snapshot(&self, queue: &QueueKeys) -> Result<QueueSnapshot, Error> {
        let mut conn = self.conn.clone();
        let (mut holders, now): (Vec<String>, (i64, i64)) = redis::pipe()
            .zrange(queue.leases(), 0, MAX_LEASES_READ - 1)
            .cmd("TIME")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis("queue_info"))?;
        let now_ms = now.0 * 1000 + now.1 / 1000;
        let mut reads = 0;
        loop {
            reads += 1;
            let replies: Vec<Value> = snapshot_pipe(queue, &holders, now_ms)
                .query_async(&mut conn)
                .await
                .map_err(Error::redis("queue_info"))?;
            let snapshot = parse_snapshot(replies, holders.len(), now_ms)?;
            // The same holders, perhaps in another order (a heartbeat moves
            // its lease's deadline, the set's score).
            let mut read_now = snapshot.leases.clone();
            read_now.sort_unstable();
            holders.sort_unstable();
            if read_now == holders || reads == SNAPSHOT_READS {
                return Ok(snapshot);
            }
            holders = read_now;
        }
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

/// The `MULTI`/`EXEC` of [`Store::queue_snapshot`]: the queue's places,
/// flags, head, counters and lease holders, then the active hash of each
/// of `holders`.
fn snapshot_pipe(queue: &QueueKeys, holders: &[String], now_ms: i64) -> redis::Pipeline {
    let q = queue;
    let mut pipe = redis::pipe();
    pipe.atomic()
        .llen(q.ready())
        .zcard(q.priority())
        .zcard(q.scheduled())
        .zcard(q.retry())
        .zcard(q.dead())
        .zcard(q.cancelled())
        .zcard(q.expired())
        .zcard(q.waiting())
        .zcount(q.sleeping(), format!("({now_ms}"), "+inf")
        .zcount(q.signal_wait(), format!("({now_ms}"), "+inf")
        .cmd("MGET")
        .arg(q.paused())
        .arg(q.flow_waiting())
        .lindex(q.ready(), 0)
        .hgetall(q.stats())
        .zrange(q.leases(), 0, MAX_LEASES_READ - 1);
    for holder in holders {
        pipe.hlen(q.active(holder));
    }
    pipe
}

/// The replies of [`snapshot_pipe`] for `holders` lease holders.
fn parse_snapshot(
    replies: Vec<Value>,
    holders: usize,
    now_ms: i64,
) -> Result<QueueSnapshot, Error> {
    const FIXED: usize = 14;
    if replies.len() != FIXED + holders {
        return Err(Error::protocol(
            "queue_info",
            format!(
                "{} replies to a snapshot of {FIXED} + {holders}",
                replies.len()
            ),
        ));
    }
    fn read<T: redis::FromRedisValue>(value: Value) -> Result<T, Error> {
        redis::from_redis_value(value).map_err(|e| Error::protocol("queue_info", e.to_string()))
    }
    let mut replies = replies.into_iter();
    let sizes = replies
        .by_ref()
        .take(10)
        .map(read)
        .collect::<Result<Vec<u64>, Error>>()?;
    let [
        ready,
        prioritised,
        scheduled,
        retry,
        dead,
        cancelled,
        expired,
        waiting,
        sleeping,
        waiting_for_signal,
    ] = sizes[..]
    else {
        return Err(Error::protocol(
            "queue_info",
            "a snapshot without its sizes",
        ));
    };
    let mut next = || replies.next().unwrap_or(Value::Nil);
    let (paused, keyed): (Option<String>, Option<u64>) = read(next())?;
    let head: Option<Vec<u8>> = read(next())?;
    let counters: HashMap<String, u64> = read(next())?;
    let leases: Vec<String> = read(next())?;
    let mut active = 0;
    for _ in 0..holders {
        active += read::<u64>(next())?;
    }
    Ok(QueueSnapshot {
        ready,
        prioritised,
        scheduled,
        retry,
        dead,
        cancelled,
        expired,
        paused: paused.is_some(),
        keyed: keyed.unwrap_or(0),
        head,
        counters,
        leases,
        active,
        waiting,
        sleeping,
        waiting_for_signal,
        now_ms,
    })
}
