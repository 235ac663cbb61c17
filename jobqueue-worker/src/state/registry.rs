//! Handlers: from a job type name to the code that decodes and runs it.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jobqueue_core::{Job, JobContext, JobError};

/// A decoded job, ready to run.
pub(crate) trait DecodedJob: Send + Sync {
    fn perform<'a>(&'a self, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>>;
}

impl<J: Job> DecodedJob for J {
    fn perform<'a>(&'a self, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(Job::perform(self, ctx))
    }
}

/// The type-erased face of a registered job type.
pub(crate) trait Handler: Send + Sync {
    fn max_attempts(&self) -> u32;
    fn timeout(&self) -> Option<Duration>;
    fn retry_delay(&self, retry: u32) -> Duration;
    /// Deserializes a payload written by `version` of the job type,
    /// upcasting older versions first.
    fn decode(&self, payload: &[u8], version: u32) -> Result<Box<dyn DecodedJob>, String>;
}

struct TypedHandler<J>(PhantomData<fn() -> J>);

impl<J: Job> Handler for TypedHandler<J> {
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
    pub(crate) fn register<J: Job>(&mut self) {
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

    /// Registered names, sorted (for error messages).
    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(name, _)| *name).collect()
    }
}
