//! The producer's trace context in the job envelope: a W3C `traceparent`
//! (`00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`).
//!
//! A producer sets it with [`crate::JobBuilder::traceparent`] (e.g. the
//! incoming request's header), or — with the `opentelemetry` feature — it
//! is taken from the current `tracing` span's OpenTelemetry context. The
//! worker records it on the job's span (field `traceparent`), hands it to
//! the job ([`crate::JobContext::traceparent`]) and, with the feature,
//! makes the job's span a child of the producer's span so one trace shows
//! the request and the job.

use crate::error::Error;

/// Checks that `value` is a well-formed version-00 `traceparent`.
pub fn validate(value: &str) -> Result<&str, Error> {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let well_formed = matches!(parts.as_slice(),
        [version, trace, span, flags]
            if hex(version, 2) && *version != "ff" && hex(trace, 32) && hex(span, 16) && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0') && span.bytes().any(|b| b != b'0'));
    if well_formed {
        Ok(value)
    } else {
        Err(Error::invalid(
            "enqueue",
            format!(
                "traceparent {value:?} is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)"
            ),
        ))
    }
}

/// The current span's trace context as a `traceparent`, when the
/// `opentelemetry` feature is on and a sampled or unsampled OpenTelemetry
/// context is active; `None` otherwise.
pub fn current() -> Option<String> {
    #[cfg(feature = "opentelemetry")]
    {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let context = tracing::Span::current().context();
        let span = context.span();
        let span_context = span.span_context();
        if span_context.is_valid() {
            return Some(format!(
                "00-{}-{}-{:02x}",
                span_context.trace_id(),
                span_context.span_id(),
                span_context.trace_flags().to_u8()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_w3c_traceparents_pass() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(validate(good).unwrap(), good);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }
}
