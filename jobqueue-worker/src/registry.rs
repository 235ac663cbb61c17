//! Handlers: from a job type name to the code that decodes and runs it.

use std::collections::HashMap;
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
        let job: J = if version < J::VERSION {
            let value: serde_json::Value = serde_json::from_slice(payload)
                .map_err(|e| format!("payload is not valid JSON: {e}"))?;
            serde_json::from_value(J::upcast(version, value)).map_err(|e| {
                format!(
                    "payload (version {version}, upcast to {}) does not match job type '{}': {e}",
                    J::VERSION,
                    J::NAME
                )
            })?
        } else {
            serde_json::from_slice(payload)
                .map_err(|e| format!("payload does not match job type '{}': {e}", J::NAME))?
        };
        Ok(Box::new(job))
    }
}

/// Registered job types by name.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
}

impl Registry {
    pub(crate) fn register<J: Job>(&mut self) {
        self.handlers
            .insert(J::NAME, Arc::new(TypedHandler::<J>(PhantomData)));
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(name)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }

    /// Registered names, sorted (for error messages).
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.handlers.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
