//! [`StatefulJob`]: a job whose handler receives the application's state
//! (database pool, HTTP client, mailer), checked at compile time; and the
//! traits that say which worker states can serve which jobs.
//!
//! Every [`Job`] is a `StatefulJob` whose state is `()` (a blanket impl),
//! so every API that takes a job — `Client::enqueue`, `CronEntry::new`,
//! the testing helpers — is bounded by `StatefulJob` and takes both kinds
//! with a single type parameter (`assert_enqueued::<J>` keeps working).
//! Why not `Job<S = ()>`: a type parameter on the trait cannot be named by
//! those one-parameter calls (the job type alone must determine its
//! state), and a worker with state could not also run jobs without.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::job::backoff::BackoffPolicy;
use crate::job::context::JobContext;
use crate::job::error::JobError;
use crate::job::{DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, DEFAULT_TIMEOUT, Job};

/// A typed background job whose handler receives application state.
///
/// The same items as [`Job`], plus `type State`: give the state once to
/// the worker (`Worker::builder(client).state(app)`), and `perform` reaches
/// it with [`JobContext::state`], typed. A worker with state `S` runs the
/// job types whose `State` is `S`, and plain [`Job`]s when `S` implements
/// [`WorkerState`].
///
/// ```
/// use std::sync::Arc;
/// use jobqueue_core::{JobContext, JobError, StatefulJob};
/// use serde::{Deserialize, Serialize};
///
/// struct AppState { mailer: Arc<dyn Fn(&str) + Send + Sync> }
///
/// #[derive(Serialize, Deserialize)]
/// struct SendWelcomeEmail { email: String }
///
/// impl StatefulJob for SendWelcomeEmail {
///     type State = AppState;
///     const NAME: &'static str = "send_welcome_email";
///
///     async fn perform(&self, ctx: &JobContext<AppState>) -> Result<(), JobError> {
///         (ctx.state().mailer)(&self.email);
///         Ok(())
///     }
/// }
/// ```
///
/// A module that imports both `Job` and `StatefulJob` sees the associated
/// items of a plain job twice: write `<MyJob as Job>::NAME` there.
pub trait StatefulJob: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// What `perform` receives through [`JobContext::state`].
    type State: Send + Sync + 'static;

    /// See [`Job::NAME`].
    const NAME: &'static str;

    /// See [`Job::QUEUE`].
    const QUEUE: &'static str = DEFAULT_QUEUE;

    /// See [`Job::MAX_ATTEMPTS`].
    const MAX_ATTEMPTS: u32 = DEFAULT_MAX_ATTEMPTS;

    /// See [`Job::TIMEOUT`].
    const TIMEOUT: Option<Duration> = Some(DEFAULT_TIMEOUT);

    /// See [`Job::VERSION`].
    const VERSION: u32 = 0;

    /// See [`Job::TRACK`].
    const TRACK: bool = false;

    /// See [`Job::retry_delay`].
    fn retry_delay(retry: u32) -> Duration {
        BackoffPolicy::default().delay(retry)
    }

    /// See [`Job::upcast`].
    fn upcast(from_version: u32, payload: serde_json::Value) -> serde_json::Value {
        let _ = from_version;
        payload
    }

    /// See [`Job::flow_key`].
    fn flow_key(&self) -> Option<String> {
        None
    }

    /// Runs the job with the worker's state in `ctx`; see [`Job::perform`].
    fn perform(
        &self,
        ctx: &JobContext<Self::State>,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

impl<J: Job> StatefulJob for J {
    type State = ();
    const NAME: &'static str = J::NAME;
    const QUEUE: &'static str = J::QUEUE;
    const MAX_ATTEMPTS: u32 = J::MAX_ATTEMPTS;
    const TIMEOUT: Option<Duration> = J::TIMEOUT;
    const VERSION: u32 = J::VERSION;
    const TRACK: bool = J::TRACK;

    fn retry_delay(retry: u32) -> Duration {
        J::retry_delay(retry)
    }

    fn upcast(from_version: u32, payload: serde_json::Value) -> serde_json::Value {
        J::upcast(from_version, payload)
    }

    fn flow_key(&self) -> Option<String> {
        Job::flow_key(self)
    }

    fn perform(&self, ctx: &JobContext) -> impl Future<Output = Result<(), JobError>> + Send {
        Job::perform(self, ctx)
    }
}

/// Marks a worker state type that may also run plain [`Job`]s (whose
/// state is `()`): `impl WorkerState for AppState {}`.
///
/// Needed only on a worker with state that registers a job without state;
/// jobs whose `State` is the worker's state need nothing.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a worker's state, and a job without state is registered on that worker",
    label = "add `impl jobqueue::WorkerState for {Self} {{}}` to run plain jobs beside jobs with this state",
    note = "a worker with state runs the jobs whose `StatefulJob::State` is that state, and plain `Job`s once the state implements `WorkerState`"
)]
pub trait WorkerState: Send + Sync + 'static {}

/// A state shared as `Arc<AppState>` is marked through `AppState`.
impl<T: WorkerState + ?Sized> WorkerState for std::sync::Arc<T> {}

/// Says that a worker whose state is `S` can hand a job its state `Self`:
/// `S` itself, or `()` (when `S` implements [`WorkerState`]). Used in the
/// bound of `WorkerBuilder::register`; not implemented by applications.
#[diagnostic::on_unimplemented(
    message = "a job whose state is `{Self}` cannot run on a worker whose state is `{S}`",
    label = "the job's `StatefulJob::State` must be the worker's state",
    note = "give the worker this state with `Worker::builder(client).state(..)` before registering the job"
)]
pub trait ProvidedBy<S>: Send + Sync + 'static {}

impl<S: Send + Sync + 'static> ProvidedBy<S> for S {}

impl<S: WorkerState> ProvidedBy<S> for () {}
