//! The housekeeping thread: lease renewal, the reaper, the delayed-job
//! promoter, cron and the shutdown sequence run on a dedicated OS thread
//! with a tokio runtime and a Redis connection of their own.
//!
//! Jobs run on the application's runtime, and a job that blocks its thread
//! (`std::thread::sleep`, blocking I/O, a long computation without
//! `spawn_blocking`) stops every task queued on that thread — including,
//! when it sits in the blocked thread's unstealable LIFO slot, the driver
//! task of a multiplexed Redis connection created on that runtime, which
//! then stalls every call on the connection. Before this thread existed a
//! job blocking both runtime threads for 12 s froze the heartbeat and the
//! reaper with it: the lease lapsed, another worker reclaimed the job and
//! it ran twice. Here the heartbeat cannot be starved by jobs: its runtime
//! has no job on it, and its connection's driver task lives on that runtime
//! (a connection belongs to the runtime that created it, so this one is
//! created on the housekeeping thread). The cost is one OS thread and one
//! Redis connection per worker.

use std::future::Future;

use jobqueue_core::store::Store;
use jobqueue_core::{Client, ClientConfig};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::error::WorkerError;

/// The housekeeping thread's runtime; it runs until [`Housekeeping::stop`].
pub(crate) struct Housekeeping {
    handle: Handle,
    stop: CancellationToken,
}

impl Housekeeping {
    /// Starts the thread and connects its own store with `config` (from
    /// the thread's runtime).
    pub(crate) async fn start(config: ClientConfig) -> Result<(Self, Store), WorkerError> {
        let stop = CancellationToken::new();
        let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("jobqueue-housekeeping".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = handle_tx.send(Err(err));
                        return;
                    }
                };
                if handle_tx.send(Ok(runtime.handle().clone())).is_ok() {
                    // Drives every task spawned on the handle until stopped;
                    // dropping the runtime then drops what is left.
                    runtime.block_on(stopped.cancelled());
                }
            })
            .map_err(|err| thread_error(&err))?;
        let handle = handle_rx
            .await
            .map_err(|_| WorkerError::Config("the housekeeping thread died at start".into()))?
            .map_err(|err| thread_error(&err))?;
        let housekeeping = Self { handle, stop };
        let connected = housekeeping
            .handle
            .spawn(async move { Client::with_config(config).await })
            .await;
        match connected {
            Ok(Ok(client)) => Ok((housekeeping, client.store().clone())),
            Ok(Err(err)) => {
                housekeeping.stop();
                Err(err.into())
            }
            Err(_) => {
                housekeeping.stop();
                Err(WorkerError::Config(
                    "the housekeeping thread stopped while connecting".into(),
                ))
            }
        }
    }

    /// The runtime's handle, to spawn housekeeping tasks on.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` on the housekeeping thread and waits for it.
    pub(crate) async fn run<F>(&self, future: F) -> Option<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future).await.ok()
    }

    /// Stops the runtime (its remaining tasks are dropped) and lets the
    /// thread end.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }
}

fn thread_error(err: &std::io::Error) -> WorkerError {
    WorkerError::Config(format!("cannot start the housekeeping thread: {err}"))
}
