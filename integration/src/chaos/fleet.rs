//! A fleet of `test_worker` processes on one queue, for scenarios that
//! kill, stop and restart them while jobs flow.

use std::time::{Duration, Instant};

use jobqueue_core::store::keys::QueueKeys;
use tokio::task::JoinHandle;

use crate::worker_process::{WorkerProcess, WorkerSpec};

/// One SIGKILL and what followed.
#[derive(Debug)]
pub struct KillRecord {
    /// The killed worker's id.
    pub worker_id: String,
    /// Jobs it held leased when it died (read from its active hash after
    /// the kill, when nothing can change it until the lease lapses).
    pub in_flight: u64,
    /// Time from the kill until its jobs were back in the queue (its active
    /// hash reclaimed); `None` if that did not happen within a minute.
    pub recovery: JoinHandle<Option<Duration>>,
}

/// Worker processes sharing one spec.
pub struct Fleet {
    binary: String,
    spec: WorkerSpec,
    queue: QueueKeys,
    redis: redis::Client,
    workers: Vec<WorkerProcess>,
}

impl Fleet {
    /// Starts `size` workers of `binary` (pass
    /// `env!("CARGO_BIN_EXE_test_worker")`) on `queue`.
    pub async fn start(binary: &str, spec: WorkerSpec, queue: QueueKeys, size: usize) -> Self {
        let redis = redis::Client::open(spec.url.as_str()).expect("valid Redis URL");
        let mut fleet = Self {
            binary: binary.to_owned(),
            spec,
            queue,
            redis,
            workers: Vec::with_capacity(size),
        };
        for _ in 0..size {
            let worker = fleet.spawn_one().await;
            fleet.workers.push(worker);
        }
        fleet
    }

    /// Number of running workers.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// True when no worker runs.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// How many of the fleet's processes are still running.
    pub fn worker_count_running(&mut self) -> usize {
        let mut running = 0;
        for worker in &mut self.workers {
            running += usize::from(worker.is_running());
        }
        running
    }

    /// Ids of the running workers.
    pub fn worker_ids(&self) -> Vec<String> {
        self.workers.iter().map(|w| w.worker_id.clone()).collect()
    }

    /// Starts one more worker (blocking start-up runs off the runtime).
    async fn spawn_one(&self) -> WorkerProcess {
        let binary = self.binary.clone();
        let spec = self.spec.clone();
        tokio::task::spawn_blocking(move || WorkerProcess::start(&binary, &spec))
            .await
            .expect("worker start-up task")
    }

    /// SIGKILLs the worker at `index`, starts a replacement in its place,
    /// and watches in the background for the dead worker's jobs to be
    /// reclaimed.
    pub async fn kill_and_replace(&mut self, index: usize) -> KillRecord {
        let victim = self.workers.swap_remove(index);
        let worker_id = victim.worker_id.clone();
        tokio::task::spawn_blocking(move || victim.kill())
            .await
            .expect("kill task");
        let killed_at = Instant::now();
        let active_key = self.queue.active(&worker_id);
        let in_flight = self.active_jobs(&active_key).await;
        let mut conn = self.connection().await;
        let recovery = tokio::spawn(async move {
            let deadline = killed_at + Duration::from_secs(60);
            while Instant::now() < deadline {
                let held: redis::RedisResult<bool> = redis::cmd("EXISTS")
                    .arg(&active_key)
                    .query_async(&mut conn)
                    .await;
                if let Ok(false) = held {
                    return Some(killed_at.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            None
        });
        let replacement = self.spawn_one().await;
        self.workers.push(replacement);
        KillRecord {
            worker_id,
            in_flight,
            recovery,
        }
    }

    /// The index of the worker holding the most leased jobs, once one holds
    /// any (waits up to `timeout`; `None` if none ever did).
    pub async fn busiest(&self, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let mut best: Option<(usize, u64)> = None;
            for (index, worker) in self.workers.iter().enumerate() {
                let held = self
                    .active_jobs(&self.queue.active(&worker.worker_id))
                    .await;
                if held > best.map_or(0, |(_, most)| most) {
                    best = Some((index, held));
                }
            }
            if let Some((index, _)) = best {
                return Some(index);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Freezes the worker at `index` (SIGSTOP) for `pause`, then lets it go
    /// on (SIGCONT); returns the jobs it held leased while frozen.
    pub async fn stall(&mut self, index: usize, pause: Duration) -> u64 {
        let worker = &self.workers[index];
        worker.suspend();
        // Let Redis finish the commands the worker had already sent.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let active_key = self.queue.active(&worker.worker_id);
        let held = self.active_jobs(&active_key).await;
        tokio::time::sleep(pause.saturating_sub(Duration::from_millis(300))).await;
        self.workers[index].resume();
        held
    }

    /// SIGTERMs the worker at `index` and waits up to `timeout` for it to
    /// exit; returns whether it exited cleanly, and how long it took.
    pub async fn stop(&mut self, index: usize, timeout: Duration) -> (bool, Duration) {
        let worker = self.workers.swap_remove(index);
        let stopping = Instant::now();
        worker.terminate();
        let clean = tokio::task::spawn_blocking(move || worker.wait(timeout))
            .await
            .expect("wait task");
        (clean, stopping.elapsed())
    }

    /// Starts one more worker with the fleet's spec.
    pub async fn add(&mut self) {
        let worker = self.spawn_one().await;
        self.workers.push(worker);
    }

    /// Stops every worker gracefully; returns whether all exited cleanly.
    pub async fn stop_all(&mut self, timeout: Duration) -> bool {
        let mut clean = true;
        while !self.workers.is_empty() {
            clean &= self.stop(0, timeout).await.0;
        }
        clean
    }

    /// HLEN of an active hash, retried on fresh connections: scenarios
    /// that cut connections may cut this one too.
    async fn active_jobs(&self, active_key: &str) -> u64 {
        for _ in 0..20 {
            let mut conn = self.connection().await;
            let held: redis::RedisResult<u64> = redis::cmd("HLEN")
                .arg(active_key)
                .query_async(&mut conn)
                .await;
            if let Ok(held) = held {
                return held;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("cannot read {active_key}");
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        self.redis
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the scenario's Redis")
    }
}
