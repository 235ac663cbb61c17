//! [`RunningWorker`]: the handle of a started worker — what it is doing,
//! and the call that stops it.

use crate::loops::housekeeping::Housekeeping;
use crate::worker::shutdown::{WorkerReport, WorkerTasks};

/// A started worker; stop it with [`RunningWorker::shutdown`].
pub struct RunningWorker {
    health_addr: Option<std::net::SocketAddr>,
    housekeeping: Housekeeping,
    tasks: WorkerTasks,
}

impl RunningWorker {
    /// A handle on the worker whose `tasks` run; `housekeeping` is its
    /// housekeeping thread.
    pub(crate) fn new(
        health_addr: Option<std::net::SocketAddr>,
        housekeeping: Housekeeping,
        tasks: WorkerTasks,
    ) -> Self {
        Self {
            health_addr,
            housekeeping,
            tasks,
        }
    }

    /// The worker's identity.
    pub fn worker_id(&self) -> &str {
        &self.tasks.shared.worker_id
    }

    /// Jobs running now.
    pub fn busy(&self) -> usize {
        self.tasks.shared.busy()
    }

    /// Where the health endpoint listens, when one was asked for.
    pub fn health_addr(&self) -> Option<std::net::SocketAddr> {
        self.health_addr
    }

    /// Stops gracefully; see [`WorkerBuilder::run_until`](crate::WorkerBuilder::run_until).
    ///
    /// The sequence runs on the worker's housekeeping thread, with its own
    /// timers and Redis connection: a job that blocks a thread of the
    /// application's runtime cannot stop it from handing the unfinished
    /// jobs back on time.
    pub async fn shutdown(self) -> WorkerReport {
        let worker_id = self.tasks.shared.worker_id.to_string();
        let report = self.housekeeping.run(self.tasks.shut_down()).await;
        self.housekeeping.stop();
        report.unwrap_or_else(|| {
            tracing::error!(worker = %worker_id, "the shutdown sequence was interrupted");
            WorkerReport {
                worker_id,
                handed_back: 0,
            }
        })
    }
}
