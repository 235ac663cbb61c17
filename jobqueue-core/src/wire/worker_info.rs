//! [`WorkerInfo`]: what a worker process publishes about itself.
//!
//! Written by the worker runtime to `P:worker:<id>` on every heartbeat
//! (with a TTL, so a killed process disappears on its own) and read by the
//! operator API.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The language of the Rust worker, and of a worker hash without the field.
pub const RUST: &str = "rust";

/// A live worker process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// Unique identity, fresh at every start (`host-pid-random`).
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Queues it fetches from, in order.
    pub queues: Vec<String>,
    /// Queues whose ready list it waits on when idle (the ready watch:
    /// a push reaches it in one hop); empty when it only waits for the
    /// published wake-up (watch off, or another language's worker).
    #[serde(default)]
    pub watching: Vec<String>,
    /// Most jobs it runs at once.
    pub concurrency: u32,
    /// Jobs running now.
    pub busy: u32,
    /// When it started.
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub last_beat_at: DateTime<Utc>,
    /// Version of jobqueue it runs (for another language's client: that
    /// client's version).
    pub version: String,
    /// Language of the worker: `rust`, or the client's (`python`); a hash
    /// without the field was written by a Rust worker.
    pub language: String,
    /// True once it stopped fetching (shutting down).
    pub stopping: bool,
}

impl WorkerInfo {
    /// The hash fields stored in Redis.
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.clone()),
            ("host", self.host.clone()),
            ("pid", self.pid.to_string()),
            ("queues", self.queues.join(",")),
            ("watching", self.watching.join(",")),
            ("concurrency", self.concurrency.to_string()),
            ("busy", self.busy.to_string()),
            ("started_at", self.started_at.timestamp_millis().to_string()),
            (
                "last_beat_at",
                self.last_beat_at.timestamp_millis().to_string(),
            ),
            ("version", self.version.clone()),
            ("language", self.language.clone()),
            ("stopping", u8::from(self.stopping).to_string()),
        ]
    }

    /// Reads the hash fields back; `None` when essential fields are missing.
    pub fn from_fields(fields: &HashMap<String, String>) -> Option<Self> {
        let get = |name: &str| fields.get(name).map(String::as_str);
        let list = |name: &str| -> Vec<String> {
            get(name)
                .unwrap_or_default()
                .split(',')
                .filter(|q| !q.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let time = |name: &str| {
            get(name)
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(crate::admin::millis_to_datetime)
        };
        Some(Self {
            id: get("id")?.to_owned(),
            host: get("host").unwrap_or_default().to_owned(),
            pid: get("pid").and_then(|v| v.parse().ok()).unwrap_or(0),
            queues: list("queues"),
            watching: list("watching"),
            concurrency: get("concurrency").and_then(|v| v.parse().ok()).unwrap_or(0),
            busy: get("busy").and_then(|v| v.parse().ok()).unwrap_or(0),
            started_at: time("started_at")?,
            last_beat_at: time("last_beat_at")?,
            version: get("version").unwrap_or_default().to_owned(),
            language: get("language").unwrap_or(RUST).to_owned(),
            stopping: get("stopping") == Some("1"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let now = crate::admin::millis_to_datetime(1_700_000_000_123).unwrap();
        let info = WorkerInfo {
            id: "host-1-abcd".into(),
            host: "host".into(),
            pid: 1,
            queues: vec!["a".into(), "b".into()],
            watching: vec!["a".into()],
            concurrency: 10,
            busy: 3,
            started_at: now,
            last_beat_at: now,
            version: "0.1.0".into(),
            language: "python".into(),
            stopping: true,
        };
        let fields: HashMap<String, String> = info
            .to_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(WorkerInfo::from_fields(&fields), Some(info));
    }
}
