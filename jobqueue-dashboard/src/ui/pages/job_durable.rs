//! The durable part of a job's page: its state (sleeping until, waiting
//! for a signal until), its completed steps (name, when, output size and
//! the output, each with an anchor to link to), its waits for signals and
//! the signals sent to it not taken yet. Shown only for a job that uses
//! steps, sleeps or signals.

use chrono::Utc;
use jobqueue_core::admin::DurableState;
use maud::{Markup, html};

use crate::format::{count, time};
use crate::ui::visible::Visible;

/// The section, or nothing for a job without a memo.
pub(crate) fn durable_section(durable: &DurableState) -> Markup {
    if durable.is_empty() {
        return html! {};
    }
    let now = Utc::now();
    html! {
        h2 #durable { "Durable steps" }
        dl.facts #job-durable {
            @if let Some(sleep) = durable.sleeping(now) {
                dt { "Sleeping" } dd #job-sleeping { (Visible(&sleep.name)) " until " (time(sleep.wakes_at)) }
            }
            @if let Some(wait) = durable.waiting_for() {
                dt { "Waiting for signal" } dd #job-waiting-signal { code { (Visible(&wait.name)) } " until " (time(wait.deadline)) }
            }
            @if !durable.pending_signals.is_empty() {
                dt { "Signals not taken yet" }
                dd { @for name in &durable.pending_signals { code { (Visible(name)) } " " } }
            }
        }
        @if !durable.steps.is_empty() {
            table #job-steps {
                thead { tr { th { "Step" } th { "State" } th { "When" } th { "Output" } } }
                tbody {
                    @for (n, step) in durable.steps.iter().enumerate() {
                        tr {
                            td { code { (Visible(&step.name)) } }
                            td { span.badge.succeeded { "done" } }
                            td { (time(step.at)) }
                            td { a href={ "#step-output-" (n) } { (count(step.output_bytes as u64)) " bytes" } }
                        }
                    }
                }
            }
            @for (n, step) in durable.steps.iter().enumerate() {
                details id={ "step-output-" (n) } {
                    summary { "Output of " code { (Visible(&step.name)) } }
                    pre.payload { (Visible(&serde_json::to_string_pretty(&step.output).unwrap_or_default())) }
                }
            }
        }
        @if !durable.signals.is_empty() {
            table #job-signals {
                thead { tr { th { "Signal" } th { "State" } th { "Deadline" } th { "Payload" } } }
                tbody {
                    @for signal in &durable.signals {
                        tr {
                            td { code { (Visible(&signal.name)) } }
                            td { (signal.state) }
                            td { (time(signal.deadline)) }
                            td { @if let Some(payload) = &signal.payload { code { (Visible(&payload.to_string())) } } }
                        }
                    }
                }
            }
        }
    }
}
