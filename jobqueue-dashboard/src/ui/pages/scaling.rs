//! The autoscaling panel of the queues page: each queue's desired workers
//! and the figures behind it (the signal `/api/v1/scaling` serves).

use jobqueue_core::admin::scaling::QueueScaling;
use maud::{Markup, html};

use crate::format::{count, rate};

/// The panel: one row per queue.
pub(crate) fn scaling_panel(signals: &[QueueScaling]) -> Markup {
    html! {
        section #scaling-panel {
            h2 { "Autoscaling" }
            p.muted {
                "Workers each queue wants (" code { "jobqueue_desired_workers" } ", "
                code { "/api/v1/scaling" } "): running jobs plus pending ones started within the latency target, "
                "jobs due within the lead time counted as pending. See docs/deployment.md."
            }
            @if !signals.is_empty() {
                div.table-wrap {
                    table #scaling-table {
                        thead { tr {
                            th { "Queue" } th.num { "Desired workers" } th.num { "Pending" } th.num { "Running" }
                            th.num { "Due soon" } th.num { "Jobs/slot·s" } th.num { "Latency target" }
                            th.num { "Lead time" } th.num { "Min–max" }
                        } }
                        tbody {
                            @for s in signals {
                                tr data-queue=(s.queue) {
                                    td { (s.queue) }
                                    td.num data-f="desired_workers" { (s.signal.desired_workers) }
                                    td.num data-f="pending" { (count(s.signal.pending)) }
                                    td.num data-f="running" { (count(s.inputs.running)) }
                                    td.num data-f="due_soon" {
                                        (count(s.inputs.scheduled_due.saturating_add(s.inputs.retry_due).saturating_add(s.inputs.cron_due)))
                                    }
                                    td.num data-f="jobs_per_slot_second" {
                                        (rate(s.signal.jobs_per_slot_second))
                                        @if !s.signal.measured { " " span.muted title="nothing measured yet: the configured default" { "(default)" } }
                                    }
                                    td.num { (format!("{} s", s.targets.latency_target.as_secs_f64())) }
                                    td.num { (format!("{} s", s.targets.lead_time.as_secs_f64())) }
                                    td.num { (s.targets.min_workers) "–" (s.targets.max_workers) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
