//! Making a job's span continue the producer's trace.
//!
//! Without the `opentelemetry` feature the producer's `traceparent` is
//! only recorded as a field of the job's span (log and trace backends can
//! join on it). With the feature, the span's OpenTelemetry parent is set
//! to the producer's span, so exporters show request → job as one trace.

/// Sets `span`'s parent to the remote span `traceparent` names (the
/// producer validated its format).
#[cfg(feature = "opentelemetry")]
pub(crate) fn continue_trace(span: &tracing::Span, traceparent: &str) {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let mut parts = traceparent.split('-').skip(1);
    let (Some(trace), Some(parent), Some(flags)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(trace_id), Ok(span_id), Ok(flags)) = (
        TraceId::from_hex(trace),
        SpanId::from_hex(parent),
        u8::from_str_radix(flags, 16),
    ) else {
        return;
    };
    let remote = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    let parent = opentelemetry::Context::new().with_remote_span_context(remote);
    let _ = span.set_parent(parent);
}

/// Without the `opentelemetry` feature the field on the span is all.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn continue_trace(_span: &tracing::Span, _traceparent: &str) {}
