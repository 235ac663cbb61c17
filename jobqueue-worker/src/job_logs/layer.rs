//! [`JobLogLayer`]: the `tracing` layer that hands the events emitted
//! inside a job's span to that attempt's capture.

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;

use tracing::span::Id;
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::job_logs::capture::AttemptCapture;
use crate::job_logs::span_capture::CaptureHooks;

/// Captures the events emitted inside a job's span into that attempt's
/// log (see [`JobLogs`](crate::JobLogs)). Add it to the subscriber of the
/// worker's process, over a `tracing_subscriber::Registry`:
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use jobqueue_worker::JobLogLayer;
///
/// let subscriber = tracing_subscriber::registry().with(JobLogLayer::new());
/// # let _ = subscriber;
/// ```
///
/// It keeps nothing by itself: only spans whose attempt a worker with
/// [`WorkerBuilder::job_logs`](crate::WorkerBuilder::job_logs) started
/// capturing get lines. For every other event it looks up the event's
/// spans and finds no capture.
pub struct JobLogLayer<S> {
    hooks: CaptureHooks,
    subscriber: PhantomData<fn(S)>,
}

impl<S> fmt::Debug for JobLogLayer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JobLogLayer")
    }
}

impl<S> JobLogLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    /// The layer.
    pub fn new() -> Self {
        Self {
            hooks: CaptureHooks {
                start: start::<S>,
                take: take::<S>,
            },
            subscriber: PhantomData,
        }
    }
}

impl<S> Default for JobLogLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn default() -> Self {
        Self::new()
    }
}

fn start<S>(dispatch: &Dispatch, id: &Id, capture: AttemptCapture)
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    if let Some(span) = dispatch
        .downcast_ref::<S>()
        .and_then(|subscriber| subscriber.span(id))
    {
        span.extensions_mut().insert(capture);
    }
}

fn take<S>(dispatch: &Dispatch, id: &Id) -> Option<AttemptCapture>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let subscriber = dispatch.downcast_ref::<S>()?;
    let span = subscriber.span(id)?;
    span.extensions_mut().remove::<AttemptCapture>()
}

impl<S> Layer<S> for JobLogLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(capture) = span.extensions_mut().get_mut::<AttemptCapture>() {
                capture.record(event);
                return;
            }
        }
    }

    /// # Safety
    ///
    /// Returns a pointer to `self.hooks` only for its own type id, as
    /// `Layer::downcast_raw` requires.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(std::ptr::from_ref(self).cast())
        } else if id == TypeId::of::<CaptureHooks>() {
            Some(std::ptr::from_ref(&self.hooks).cast())
        } else {
            None
        }
    }
}
