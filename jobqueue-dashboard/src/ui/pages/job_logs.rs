//! The logs part of a job's page: one block per attempt, its lines as the
//! worker stored them (per-job logs, `docs/search-logs-events.md`), every
//! line escaped and its hidden characters shown. Nothing for a job without
//! logs.

use jobqueue_core::AttemptLog;
use maud::{Markup, html};

use crate::ui::visible::Visible;

/// The section, or nothing when no attempt left a log.
pub(crate) fn logs_section(logs: &[AttemptLog]) -> Markup {
    if logs.is_empty() {
        return html! {};
    }
    html! {
        h2 #logs { "Logs" }
        @for log in logs {
            details.job-log id={ "log-attempt-" (log.attempt) } open[log.attempt == logs.last().map_or(0, |l| l.attempt)] {
                summary { "Attempt " (log.attempt) " (" (log.lines.len()) " lines)" }
                pre.payload {
                    @for line in &log.lines {
                        (Visible(line)) "\n"
                    }
                }
            }
        }
    }
}
