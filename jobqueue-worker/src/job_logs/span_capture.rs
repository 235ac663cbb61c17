//! How the runner starts and ends an attempt's capture on the job's span:
//! through [`CaptureHooks`], which [`JobLogLayer`](crate::JobLogLayer)
//! hands out by `Dispatch::downcast_ref`, so the runner needs no knowledge
//! of the subscriber's type.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::span::Id;
use tracing::{Dispatch, Span};

use crate::job_logs::capture::AttemptCapture;
use crate::job_logs::settings::JobLogs;

/// How the runner reaches the captures in the span store of a subscriber
/// whose type it does not know (found by `Dispatch::downcast_ref`, as
/// `tracing-error` finds its own).
pub(crate) struct CaptureHooks {
    /// Puts a capture in a span's extensions.
    pub(crate) start: fn(&Dispatch, &Id, AttemptCapture),
    /// Takes it out again.
    pub(crate) take: fn(&Dispatch, &Id) -> Option<AttemptCapture>,
}

/// Says once per process that logs are on but nothing can be captured.
static WARNED_NO_CAPTURE: AtomicBool = AtomicBool::new(false);

/// Starts capturing the events inside `span` (a job's span) for one
/// attempt. Returns false when no [`JobLogLayer`](crate::JobLogLayer) is
/// installed in the span's subscriber, or the span is disabled: nothing
/// will be captured (said once per process in a warning).
pub(crate) fn start_capture(span: &Span, settings: &JobLogs) -> bool {
    let started = span
        .with_subscriber(|(id, dispatch)| {
            dispatch
                .downcast_ref::<CaptureHooks>()
                .map(|hooks| (hooks.start)(dispatch, id, AttemptCapture::new(settings)))
                .is_some()
        })
        .unwrap_or(false);
    if !started && !WARNED_NO_CAPTURE.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "per-job logs are on (WorkerBuilder::job_logs) but the job's span is disabled by a \
             filter or the subscriber has no JobLogLayer: no log is captured"
        );
    }
    started
}

/// Ends the capture `start_capture` began on `span`: its lines (none if
/// it never started).
pub(crate) fn finish_capture(span: &Span) -> Vec<String> {
    span.with_subscriber(|(id, dispatch)| {
        dispatch
            .downcast_ref::<CaptureHooks>()
            .and_then(|hooks| (hooks.take)(dispatch, id))
    })
    .flatten()
    .map(AttemptCapture::into_lines)
    .unwrap_or_default()
}
