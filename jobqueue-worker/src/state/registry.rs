//! Handlers: from a job type name to the code that decodes and runs it
//! with the state its `perform` receives.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jobqueue_core::{JobContext, JobError, StatefulJob};

/// The worker's application state (`WorkerBuilder::state`), its type
/// erased; `Arc<()>` for a worker without state.
pub(crate) type ErasedState = Arc<dyn Any + Send + Sync>;

/// A decoded job, ready to run.
pub(crate) trait DecodedJob: Send + Sync {
    /// Runs the job. `ctx` is the run's context without state; a job that
    /// takes state gets a copy of it carrying `state`, downcast to its type.
    fn perform<'a>(
        &'a self,
        ctx: &'a JobContext,
        state: &ErasedState,
    ) -> BoxFuture<'a, Result<(), JobError>>;
}

impl<J: StatefulJob> DecodedJob for J {
    fn perform<'a>(
        &'a self,
        ctx: &'a JobContext,
        state: &ErasedState,
    ) -> BoxFuture<'a, Result<(), JobError>> {
        // A job without state (the common case) runs on the context as is.
        if let Some(ctx) = (ctx as &dyn Any).downcast_ref::<JobContext<J::State>>() {
            return Box::pin(StatefulJob::perform(self, ctx));
        }
        match state.clone().downcast::<J::State>() {
            Ok(state) => {
                let ctx = ctx.map_state(state);
                Box::pin(async move { StatefulJob::perform(self, &ctx).await })
            }
            // `WorkerBuilder::register` checks the state type at compile
            // time; this is only reachable through a bug.
            Err(_) => Box::pin(std::future::ready(Err(JobError::permanent(format!(
                "job type '{}' needs state of type {}, which this worker was not given",
                J::NAME,
                std::any::type_name::<J::State>()
            ))))),
        }
    }
}

/// The type-erased face of a registered job type.
pub(crate) trait Handler: Send + Sync {
    /// The job type's default queue.
    fn queue(&self) -> &'static str;
    fn max_attempts(&self) -> u32;
    fn timeout(&self) -> Option<Duration>;
    fn retry_delay(&self, retry: u32) -> Duration;
    /// Deserializes a payload written by `version` of the job type,
    /// upcasting older versions first.
    fn decode(&self, payload: &[u8], version: u32) -> Result<Box<dyn DecodedJob>, String>;
}

struct TypedHandler<J>(PhantomData<fn() -> J>);

impl<J: StatefulJob> Handler for TypedHandler<J> {
    fn queue(&self) -> &'static str {
        J::QUEUE
    }

    fn max_attempts(&self) -> u32 {
        J::MAX_ATTEMPTS.max(1)
    }

    fn timeout(&self) -> Option<Duration> {
        J::TIMEOUT
    }

    fn retry_delay(&self, retry: u32) -> Duration {
        J::retry_delay(retry)
    }

    fn decode(&self, payload: &[u8], version: u32) -> Result<Box<dyn DecodedJob>, String> {
        let job: J = jobqueue_core::decode_payload(payload, version).map_err(|err| match err {
            jobqueue_core::Error::Decode { message, .. } => message,
            other => other.to_string(),
        })?;
        Ok(Box::new(job))
    }
}

/// A registered job type: its name (shared with every context) and handler.
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) name: Arc<str>,
    pub(crate) handler: Arc<dyn Handler>,
}

/// Registered job types, sorted by name (a binary search beats hashing
/// for the handful of types a worker has).
#[derive(Clone, Default)]
pub(crate) struct Registry {
    entries: Vec<(&'static str, Registered)>,
}

impl Registry {
    pub(crate) fn register<J: StatefulJob>(&mut self) {
        let entry = Registered {
            name: Arc::from(J::NAME),
            handler: Arc::new(TypedHandler::<J>(PhantomData)),
        };
        match self
            .entries
            .binary_search_by(|(name, _)| (*name).cmp(J::NAME))
        {
            Ok(index) => self.entries[index].1 = entry,
            Err(index) => self.entries.insert(index, (J::NAME, entry)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Registered> {
        self.entries
            .binary_search_by(|(registered, _)| (*registered).cmp(name))
            .ok()
            .map(|index| &self.entries[index].1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Registered job types and their default queues, sorted by name.
    pub(crate) fn default_queues(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.entries
            .iter()
            .map(|(name, entry)| (*name, entry.handler.queue()))
    }

    /// Registered names, sorted (for error messages).
    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(name, _)| *name).collect()
    }
}
