//! Figures of one scenario run, printed as one JSON line
//! (`CHAOS-FIGURES {...}`) and appended to the file named by
//! `JQ_CHAOS_FIGURES` when set: `scripts/chaos` collects them for
//! `docs/reliability.md`.

use std::io::Write;

use serde_json::{Map, Value, json};

/// Environment variable naming the file figures are appended to.
pub const ENV_FIGURES_FILE: &str = "JQ_CHAOS_FIGURES";

/// Named figures of one scenario.
#[derive(Debug, Clone)]
pub struct Figures {
    scenario: String,
    values: Map<String, Value>,
}

impl Figures {
    /// Empty figures for `scenario`.
    pub fn new(scenario: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            values: Map::new(),
        }
    }

    /// Sets one figure.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.values.insert(name.to_owned(), value.into());
        self
    }

    /// The delivery figures every scenario reports.
    pub fn delivery(&mut self, audit: &super::DeliveryAudit) -> &mut Self {
        self.set("jobs", audit.accepted)
            .set("lost", audit.lost)
            .set("duplicate_starts", audit.duplicate_starts)
            .set("jobs_started_twice", audit.jobs_started_twice)
            .set("duplicate_finishes", audit.duplicate_finishes)
    }

    /// Prints the line and appends it to the figures file, if one is set.
    pub fn publish(&self) {
        let line = json!({ "scenario": self.scenario, "figures": self.values }).to_string();
        println!("CHAOS-FIGURES {line}");
        if let Ok(path) = std::env::var(ENV_FIGURES_FILE) {
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| writeln!(file, "{line}"));
            if let Err(err) = appended {
                panic!("cannot append figures to {path}: {err}");
            }
        }
    }
}
