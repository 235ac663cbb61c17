//! Middleware: code that wraps every job run (tracing, metrics, auth, …).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use jobqueue_core::{JobContext, JobError};

/// Wraps job runs. Call `next.run()` to run the rest of the chain and the
/// job; return without calling it to skip the job (the returned result is
/// the run's result).
///
/// ```
/// use futures_util::future::BoxFuture;
/// use jobqueue_core::{JobContext, JobError};
/// use jobqueue_worker::{Middleware, Next};
/// use std::time::Instant;
///
/// struct Timing;
///
/// impl Middleware for Timing {
///     fn call<'a>(&'a self, ctx: &'a JobContext, next: Next<'a>) -> BoxFuture<'a, Result<(), JobError>> {
///         Box::pin(async move {
///             let started = Instant::now();
///             let result = next.run().await;
///             tracing::info!(job = %ctx.id(), elapsed_ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "job finished");
///             result
///         })
///     }
/// }
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Handles one run.
    fn call<'a>(
        &'a self,
        ctx: &'a JobContext,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<(), JobError>>;
}

/// The rest of the middleware chain, ending in the job itself.
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    ctx: &'a JobContext,
    job: BoxFuture<'a, Result<(), JobError>>,
}

impl<'a> Next<'a> {
    pub(crate) fn new(
        chain: &'a [Arc<dyn Middleware>],
        ctx: &'a JobContext,
        job: BoxFuture<'a, Result<(), JobError>>,
    ) -> Self {
        Self {
            rest: chain,
            ctx,
            job,
        }
    }

    /// Runs the remaining middleware and the job.
    pub fn run(self) -> BoxFuture<'a, Result<(), JobError>> {
        match self.rest.split_first() {
            Some((first, rest)) => first.call(
                self.ctx,
                Next {
                    rest,
                    ctx: self.ctx,
                    job: self.job,
                },
            ),
            None => self.job,
        }
    }
}
