//! Per-job logs: the `tracing` events a job emits while it runs, captured
//! per attempt and stored with the job in Redis (`P:{Q}:logs:<id>`, see
//! `docs/search-logs-events.md`, "Logs").
//!
//! Off by default. Turning them on takes two things: [`JobLogs`] given to
//! [`WorkerBuilder::job_logs`](crate::WorkerBuilder::job_logs) (the caps
//! and the redaction), and [`JobLogLayer`] added to the application's
//! subscriber (the capture). Without the first, the worker starts no
//! capture and writes nothing; without the layer, nothing is captured.

mod capture;
mod layer;
mod settings;
mod span_capture;

pub use layer::JobLogLayer;
pub use settings::JobLogs;

pub(crate) use capture::CapturedAttempt;
pub(crate) use span_capture::{finish_capture, start_capture};
