//! One attempt's capture: the lines kept so far under the caps, and the
//! log it becomes.

use std::fmt::{self, Write as _};
use std::time::Instant;

use tracing::field::{Field, Visit};

use crate::job_logs::settings::JobLogs;

/// One attempt's log as captured, on its way to be stored.
#[derive(Debug)]
pub(crate) struct CapturedAttempt {
    /// The attempt's number, from 1.
    pub(crate) attempt: u32,
    /// Its lines (the last one may say how many were dropped).
    pub(crate) lines: Vec<String>,
    /// An earlier run of the job may have stored a log: this is not its
    /// first attempt, or its record carries an error history (a dead job
    /// an operator retried starts again at attempt 1). A success without
    /// one has no log key to delete.
    pub(crate) earlier_runs: bool,
}

/// The lines one attempt logged, kept under its caps. Lives in the
/// extensions of the job's span while the attempt runs.
pub(crate) struct AttemptCapture {
    settings: JobLogs,
    started: Instant,
    lines: Vec<String>,
    bytes: usize,
    dropped: u64,
}

impl AttemptCapture {
    /// An empty capture under `settings`' caps, its clock started now.
    pub(crate) fn new(settings: &JobLogs) -> Self {
        Self {
            settings: settings.clone(),
            started: Instant::now(),
            lines: Vec::new(),
            bytes: 0,
            dropped: 0,
        }
    }

    /// Formats `event` as one line (time since the attempt started, level,
    /// message, fields), redacts it and keeps it if the caps allow.
    pub(crate) fn record(&mut self, event: &tracing::Event<'_>) {
        if self.lines.len() >= self.settings.max_lines || self.bytes >= self.settings.max_bytes {
            self.dropped += 1;
            return;
        }
        let mut fields = LineFields::default();
        event.record(&mut fields);
        let line = format!(
            "+{}ms {} {}{}",
            self.started.elapsed().as_millis(),
            event.metadata().level(),
            fields.message,
            fields.others
        );
        let line = match &self.settings.redact {
            Some(redact) => redact(&line).into_owned(),
            None => line,
        };
        if self.bytes + line.len() > self.settings.max_bytes {
            self.dropped += 1;
            // The log stays a prefix of what the attempt said: later
            // events are dropped too, even short ones.
            self.bytes = self.settings.max_bytes;
            return;
        }
        self.bytes += line.len();
        self.lines.push(line);
    }

    /// The attempt's lines, with a final `… K lines dropped` line when
    /// the caps dropped any.
    pub(crate) fn into_lines(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.lines.push(format!("… {} lines dropped", self.dropped));
        }
        self.lines
    }
}

/// An event's message, and its other fields as ` name=value`.
#[derive(Default)]
struct LineFields {
    message: String,
    others: String,
}

impl Visit for LineFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.others, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.others, " {}={value:?}", field.name());
        }
    }
}
