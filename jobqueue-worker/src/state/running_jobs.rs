//! The jobs running in this process, by id: how an operator's
//! cancellation reaches a running job.
//!
//! `cancel.lua` takes a cancelled job out of its worker's active hash and
//! publishes `c<id>` on the queue's events channel; the event subscriber
//! (`loops/event_subscriber.rs`) hands the id to [`RunningJobs::cancel`],
//! which fires the job's token. A job that was fetched (prefetched) but has
//! not started yet is remembered for a while and never started.
//!
//! Every run registers here, so the registry is sharded by job id to keep
//! the per-job cost to one uncontended lock, an insert and a remove.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const SHARDS: usize = 16;

/// How long a cancellation for a job not (yet) running here is remembered.
const EARLY_CANCEL_MEMORY: Duration = Duration::from_secs(120);

/// Most remembered early cancellations per shard.
const MAX_EARLY_CANCELS: usize = 1000;

#[derive(Default)]
struct Shard {
    running: HashMap<Uuid, CancellationToken>,
    /// Cancellations that arrived before the job started (or for jobs of
    /// other processes: every worker hears every cancellation).
    early: HashMap<Uuid, Instant>,
}

/// The jobs running in this process, by id.
#[derive(Default)]
pub(crate) struct RunningJobs {
    shards: [Mutex<Shard>; SHARDS],
}

/// Registration of one run; unregisters on drop.
pub(crate) struct RunningGuard<'a> {
    jobs: &'a RunningJobs,
    id: Uuid,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut shard) = self.jobs.shard(self.id).lock() {
            shard.running.remove(&self.id);
        }
    }
}

impl RunningJobs {
    fn shard(&self, id: Uuid) -> &Mutex<Shard> {
        // UUID v7's last bytes are random: an even spread.
        let byte = id.as_bytes()[15] as usize;
        &self.shards[byte % SHARDS]
    }

    /// Registers a run about to start; `None` when the job was cancelled
    /// before it started (it must not run).
    pub(crate) fn start(&self, id: Uuid, token: CancellationToken) -> Option<RunningGuard<'_>> {
        let Ok(mut shard) = self.shard(id).lock() else {
            // A poisoned lock only means a panic elsewhere; run uncancellable.
            return Some(RunningGuard { jobs: self, id });
        };
        if !shard.early.is_empty() && shard.early.remove(&id).is_some() {
            return None;
        }
        shard.running.insert(id, token);
        Some(RunningGuard { jobs: self, id })
    }

    /// Fires the token of job `id` if it runs here; otherwise remembers
    /// the cancellation in case the job is about to start here.
    pub(crate) fn cancel(&self, id: Uuid) {
        let Ok(mut shard) = self.shard(id).lock() else {
            return;
        };
        if let Some(token) = shard.running.get(&id) {
            token.cancel();
            return;
        }
        let now = Instant::now();
        shard
            .early
            .retain(|_, at| now.duration_since(*at) < EARLY_CANCEL_MEMORY);
        if shard.early.len() < MAX_EARLY_CANCELS {
            shard.early.insert(id, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_fires_a_running_job_and_blocks_one_not_yet_started() {
        let jobs = RunningJobs::default();
        let running = Uuid::now_v7();
        let token = CancellationToken::new();
        let guard = jobs.start(running, token.clone()).unwrap();
        jobs.cancel(running);
        assert!(token.is_cancelled());
        drop(guard);

        let prefetched = Uuid::now_v7();
        jobs.cancel(prefetched);
        assert!(jobs.start(prefetched, CancellationToken::new()).is_none());
        // Remembered once: a later run of the same id (never happens for a
        // cancelled job, but) is not blocked forever.
        assert!(jobs.start(prefetched, CancellationToken::new()).is_some());
    }
}
