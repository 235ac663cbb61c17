//! [`JobLogs`]: the caps, redaction and retention of per-job logs.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A redaction hook: gets each formatted line, returns what is stored.
pub(crate) type Redactor = Arc<dyn Fn(&str) -> Cow<'_, str> + Send + Sync>;

/// Default most lines kept per attempt.
pub(crate) const DEFAULT_MAX_LINES: usize = 200;
/// Default most bytes (of line text) kept per attempt: 64 KiB.
pub(crate) const DEFAULT_MAX_BYTES: usize = 64 * 1024;
/// Default time a job's logs are kept after their last write: 180 days,
/// the default longest age of a dead job, so dead jobs keep theirs.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(180 * 24 * 3600);

/// Settings of per-job logs, given to
/// [`WorkerBuilder::job_logs`](crate::WorkerBuilder::job_logs).
///
/// | setting | default | meaning |
/// | --- | --- | --- |
/// | [`max_lines`](JobLogs::max_lines) | 200 | lines kept per attempt; then a final `… K lines dropped` line |
/// | [`max_kib`](JobLogs::max_kib) | 64 | KiB of line text kept per attempt (same final line) |
/// | [`redact`](JobLogs::redact) | none | applied to every line before it is kept |
/// | [`ttl`](JobLogs::ttl) | 180 days | a job's log key expires this long after its last write |
///
/// ```
/// use std::borrow::Cow;
/// use jobqueue_worker::JobLogs;
///
/// let logs = JobLogs::new().max_lines(50).max_kib(16).redact(|line: &str| {
///     if line.contains("password=") {
///         Cow::Owned("(line redacted)".to_owned())
///     } else {
///         Cow::Borrowed(line)
///     }
/// });
/// # let _ = logs;
/// ```
#[derive(Clone)]
pub struct JobLogs {
    pub(crate) max_lines: usize,
    pub(crate) max_bytes: usize,
    pub(crate) redact: Option<Redactor>,
    pub(crate) ttl: Duration,
}

impl Default for JobLogs {
    fn default() -> Self {
        Self {
            max_lines: DEFAULT_MAX_LINES,
            max_bytes: DEFAULT_MAX_BYTES,
            redact: None,
            ttl: DEFAULT_TTL,
        }
    }
}

impl fmt::Debug for JobLogs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobLogs")
            .field("max_lines", &self.max_lines)
            .field("max_bytes", &self.max_bytes)
            .field("redact", &self.redact.is_some())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl JobLogs {
    /// Per-job logs with the default caps, no redaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Most lines kept per attempt (at least 1).
    pub fn max_lines(mut self, lines: usize) -> Self {
        self.max_lines = lines.max(1);
        self
    }

    /// Most KiB of line text kept per attempt (at least 1).
    pub fn max_kib(mut self, kib: usize) -> Self {
        self.max_bytes = kib.max(1).saturating_mul(1024);
        self
    }

    /// Applies `redact` to every line before it is kept (and before the
    /// caps count it): mask secrets here. It runs on the job's task, once
    /// per event inside a job, while that job's capture is locked: it
    /// must not emit `tracing` events itself.
    pub fn redact<F>(mut self, redact: F) -> Self
    where
        F: Fn(&str) -> Cow<'_, str> + Send + Sync + 'static,
    {
        self.redact = Some(Arc::new(redact));
        self
    }

    /// How long a job's logs are kept after their last write (at least
    /// 1 s). Records removed earlier take their logs with them.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.max(Duration::from_secs(1));
        self
    }
}
