//! A durable job's memo as the operator sees it: its completed steps
//! (name, when, output size and output), its sleeps, the signal it waits
//! for and until when, the signals it received or timed out on, and the
//! signals sent to it that it has not taken yet. Read with one round trip
//! (`Store::read_memo`); empty for a job that uses none of these.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::admin::Admin;
use crate::error::Error;

/// One completed step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepEntry {
    /// The step name (`<name>#<i>` for [`crate::JobContext::step_n`]).
    pub name: String,
    /// When its output was stored.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub at: Option<DateTime<Utc>>,
    /// Size of its output, bytes of JSON.
    pub output_bytes: usize,
    /// Its output.
    pub output: serde_json::Value,
}

/// One durable sleep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SleepEntry {
    /// The sleep name.
    pub name: String,
    /// When it wakes (it ran on once this passed).
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub wakes_at: Option<DateTime<Utc>>,
}

/// A wait for a signal, over or still on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalEntry {
    /// The signal name.
    pub name: String,
    /// `waiting`, `received` or `timed_out`.
    pub state: &'static str,
    /// The wait's deadline.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub deadline: Option<DateTime<Utc>>,
    /// The payload received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

/// Everything durable about one job.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DurableState {
    /// Completed steps, oldest first.
    pub steps: Vec<StepEntry>,
    /// Sleeps taken or under way.
    pub sleeps: Vec<SleepEntry>,
    /// Waits for signals.
    pub signals: Vec<SignalEntry>,
    /// Names of signals sent to the job that it has not taken yet.
    pub pending_signals: Vec<String>,
}

impl DurableState {
    /// True for a job that uses no step, sleep or signal.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
            && self.sleeps.is_empty()
            && self.signals.is_empty()
            && self.pending_signals.is_empty()
    }

    /// The sleep under way at `now`, if the job sleeps.
    pub fn sleeping(&self, now: DateTime<Utc>) -> Option<&SleepEntry> {
        self.sleeps
            .iter()
            .find(|sleep| sleep.wakes_at.is_some_and(|at| at > now))
    }

    /// The signal the job is parked waiting for, if any.
    pub fn waiting_for(&self) -> Option<&SignalEntry> {
        self.signals.iter().find(|signal| signal.state == "waiting")
    }
}

fn ms_time(text: &str) -> Option<DateTime<Utc>> {
    // Kept to the microsecond the scripts store (`ms_text`): steps stored
    // within one millisecond still sort in the order they were stored.
    text.parse::<f64>().ok().and_then(|ms| {
        #[allow(clippy::cast_possible_truncation)]
        DateTime::from_timestamp_micros((ms * 1000.0).round() as i64)
    })
}

impl Admin {
    /// The memo of job `id` on `queue` (see [`DurableState`]).
    pub async fn durable_state(&self, queue: &str, id: Uuid) -> Result<DurableState, Error> {
        let store = self.store();
        let keys = store.queue_keys(queue)?;
        let memo = store.read_memo(&keys, &id.to_string()).await?;
        let mut state = DurableState::default();
        for (field, value) in &memo.fields {
            if let Some(name) = field.strip_prefix("step:") {
                let (at, json) = value.split_once(' ').unwrap_or(("", value));
                state.steps.push(StepEntry {
                    name: name.to_owned(),
                    at: ms_time(at),
                    output_bytes: json.len(),
                    output: serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
                });
            } else if let Some(name) = field.strip_prefix("sleep:") {
                state.sleeps.push(SleepEntry {
                    name: name.to_owned(),
                    wakes_at: ms_time(value),
                });
            } else if let Some(name) = field.strip_prefix("wait:") {
                state.signals.push(signal_entry(name, value, &memo.fields));
            }
        }
        state.steps.sort_by_key(|step| step.at);
        state.sleeps.sort_by_key(|sleep| sleep.wakes_at);
        state.signals.sort_by_key(|signal| signal.deadline);
        state.pending_signals = memo.signals.into_keys().collect();
        state.pending_signals.sort();
        Ok(state)
    }
}

fn signal_entry(
    name: &str,
    deadline: &str,
    fields: &std::collections::HashMap<String, String>,
) -> SignalEntry {
    let done = fields.get(&format!("signal:{name}"));
    let (state, payload) = match done.map(String::as_str) {
        Some(value) if value.starts_with("R ") => {
            ("received", serde_json::from_str(&value[2..]).ok())
        }
        Some(_) => ("timed_out", None),
        None => ("waiting", None),
    };
    SignalEntry {
        name: name.to_owned(),
        state,
        deadline: ms_time(deadline),
        payload,
    }
}
