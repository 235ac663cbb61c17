//! The clock the benchmark's timestamps use: nanoseconds since the epoch,
//! comparable between the producer and the worker process.

/// Nanoseconds since the epoch, now.
pub(crate) fn now_ns() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}
