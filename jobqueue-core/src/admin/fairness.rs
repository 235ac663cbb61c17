//! Weighted fairness between flow keys, and how long each key's jobs wait.
//!
//! Keyed jobs are served round-robin by `fetch_limited.lua`. A **weight**
//! (1-[`MAX_FLOW_WEIGHT`], default 1) set on a key class (`tenant`) or on
//! one flow key (`tenant:4711`, which wins over its class's) turns that
//! into deficit round-robin: each turn gives a key a quantum of jobs
//! proportional to its weight, kept as credit across fetches, so with
//! weights 3 and 1 two busy keys start jobs 3:1 however the workers batch
//! their fetches. Weights are read by the script at every fetch, across
//! every worker process; queues without weights pay one `EXISTS`.
//!
//! The script also records each keyed start's wait (ready → leased) in a
//! capped sample list; [`Admin::flow_key_waits`] turns the latest
//! [`WAIT_SAMPLES`] into p50/p99 per key, for the busiest keys plus one
//! "other" row, so dashboards and `/metrics` stay bounded however many
//! keys a queue has. See docs/flow-control.md, "Weighted fairness".

use std::collections::HashMap;

use serde::Serialize;

use crate::admin::handle::Admin;
use crate::error::Error;
use crate::job::flow_key::validate_flow_key;
pub use crate::store::commands::flow_waits::WAIT_SAMPLES;
use crate::store::commands::flow_waits::WaitSample;

/// Largest weight of a key class or flow key.
pub const MAX_FLOW_WEIGHT: u32 = 1000;

/// Most keys [`Admin::flow_key_waits`] reports by name (the rest are
/// summed up as "other").
pub const MAX_WAIT_KEYS: usize = 100;

/// The label of the row that sums up the keys not reported by name.
pub const OTHER_KEYS: &str = "other";

/// A weight set on a key class or on one flow key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowWeight {
    /// A key class (`tenant`, no `:`) or a flow key (`tenant:4711`).
    pub name: String,
    /// Its share relative to the others (a key without one counts 1).
    pub weight: u32,
}

/// How long the recent starts of one flow key (or of the keys summed up
/// as "other") waited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyWait {
    /// The flow key, or [`OTHER_KEYS`].
    pub key: String,
    /// Its starts among the samples.
    pub starts: u64,
    /// Median wait, ready → leased, in ms.
    pub p50_ms: u64,
    /// 99th percentile wait in ms.
    pub p99_ms: u64,
    /// Longest wait in ms.
    pub max_ms: u64,
}

/// Per-key waits of a queue's latest keyed starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowWaits {
    /// How many starts the figures cover (at most [`WAIT_SAMPLES`]).
    pub samples: u64,
    /// The keys with the most starts, busiest first.
    pub keys: Vec<KeyWait>,
    /// The other keys' starts together, when there are any.
    pub other: Option<KeyWait>,
}

impl Admin {
    /// Sets the weight of `name` on `queue`: a key class (`tenant`) weighs
    /// every key of the class, a flow key (`tenant:4711`) only itself and
    /// wins over its class's. Weights are read at every fetch, so they
    /// apply at once; 1 is what a key without a weight has.
    ///
    /// ```no_run
    /// # async fn demo(admin: jobqueue_core::Admin) -> Result<(), jobqueue_core::Error> {
    /// admin.set_flow_weight("default", "gold", 3).await?;        // every gold:… key
    /// admin.set_flow_weight("default", "free:4711", 2).await?;   // one key
    /// # Ok(()) }
    /// ```
    pub async fn set_flow_weight(&self, queue: &str, name: &str, weight: u32) -> Result<(), Error> {
        validate_flow_key(name)?;
        if !(1..=MAX_FLOW_WEIGHT).contains(&weight) {
            return Err(Error::invalid(
                "set_flow_weight",
                format!("a weight must be 1-{MAX_FLOW_WEIGHT}, got {weight}"),
            ));
        }
        let keys = self.store().queue_keys(queue)?;
        self.store().register_queues([queue]).await?;
        self.store().store_flow_weight(&keys, name, weight).await
    }

    /// Removes the weight of `name` on `queue` (its keys weigh 1 again, or
    /// their class's). Returns false when it had none.
    pub async fn clear_flow_weight(&self, queue: &str, name: &str) -> Result<bool, Error> {
        validate_flow_key(name)?;
        let keys = self.store().queue_keys(queue)?;
        self.store().remove_flow_weight(&keys, name).await
    }

    /// The weights set on `queue`, by name.
    pub async fn flow_weights(&self, queue: &str) -> Result<Vec<FlowWeight>, Error> {
        let keys = self.store().queue_keys(queue)?;
        let mut out: Vec<FlowWeight> = self
            .store()
            .flow_weights(&keys)
            .await?
            .into_iter()
            .map(|(name, weight)| FlowWeight { name, weight })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// p50/p99 waits of `queue`'s latest keyed starts (up to
    /// [`WAIT_SAMPLES`]): the `top` keys with the most starts by name
    /// (at most [`MAX_WAIT_KEYS`]), the rest together as [`OTHER_KEYS`].
    pub async fn flow_key_waits(&self, queue: &str, top: usize) -> Result<FlowWaits, Error> {
        let keys = self.store().queue_keys(queue)?;
        let samples = self.store().flow_wait_samples(&keys).await?;
        Ok(summarize_waits(samples, top.min(MAX_WAIT_KEYS)))
    }
}

/// Groups samples by key; the `top` keys with the most starts (ties by
/// name) by name, the rest as one "other" row.
fn summarize_waits(samples: Vec<WaitSample>, top: usize) -> FlowWaits {
    let total = samples.len() as u64;
    let mut by_key: HashMap<String, Vec<u64>> = HashMap::new();
    for sample in samples {
        by_key.entry(sample.key).or_default().push(sample.wait_ms);
    }
    let mut groups: Vec<(String, Vec<u64>)> = by_key.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let rest = groups.split_off(top.min(groups.len()));
    let keys = groups
        .into_iter()
        .map(|(key, waits)| key_wait(key, waits))
        .collect();
    let other = (!rest.is_empty()).then(|| {
        let waits = rest.into_iter().flat_map(|(_, waits)| waits).collect();
        key_wait(OTHER_KEYS.to_owned(), waits)
    });
    FlowWaits {
        samples: total,
        keys,
        other,
    }
}

fn key_wait(key: String, mut waits: Vec<u64>) -> KeyWait {
    waits.sort_unstable();
    KeyWait {
        key,
        starts: waits.len() as u64,
        p50_ms: nearest_rank(&waits, 50),
        p99_ms: nearest_rank(&waits, 99),
        max_ms: waits.last().copied().unwrap_or(0),
    }
}

/// The nearest-rank percentile of sorted `values` (0 when empty).
fn nearest_rank(sorted: &[u64], percent: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(wait_ms: u64, key: &str) -> WaitSample {
        WaitSample {
            wait_ms,
            key: key.into(),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&values, 50), 50);
        assert_eq!(nearest_rank(&values, 99), 99);
        assert_eq!(nearest_rank(&[7], 99), 7);
        assert_eq!(nearest_rank(&[], 50), 0);
    }

    #[test]
    fn the_busiest_keys_are_named_and_the_rest_are_other() {
        let mut samples = Vec::new();
        for i in 0..30 {
            samples.push(sample(i, "t:a"));
        }
        for i in 0..20 {
            samples.push(sample(100 + i, "t:b"));
        }
        for key in ["t:c", "t:d", "t:e"] {
            samples.push(sample(1000, key));
        }
        let waits = summarize_waits(samples, 2);
        assert_eq!(waits.samples, 53);
        let names: Vec<&str> = waits.keys.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(names, ["t:a", "t:b"]);
        assert_eq!(waits.keys[0].p50_ms, 14);
        assert_eq!(waits.keys[1].max_ms, 119);
        let other = waits.other.expect("three keys left over");
        assert_eq!(
            (other.key.as_str(), other.starts, other.p99_ms),
            ("other", 3, 1000)
        );
        assert_eq!(summarize_waits(Vec::new(), 10).other, None);
    }
}
