//! A [`Scenario`]: a name, the protocol item it covers, and its steps and
//! assertions written against [`Ctx`] — which adapter produces and which
//! works is the pairing's business, never the scenario's.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jobqueue::testing::TestRedis;
use serde_json::Value;

use crate::adapters::Adapter;
use crate::failure::{Failure, Outcome, ensure, eventually};
use crate::probe::{Probe, RunEntry};
use crate::process::{Producer, WorkerProcess, WorkerSpec};

/// The queue every scenario uses (each scenario has its own prefix).
pub const QUEUE: &str = "conformance";

/// A scenario's steps: an async function of its context.
pub type ScenarioFn = fn(Ctx) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// One language-neutral scenario.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// `area.what`, e.g. `worker.bury_with_error_history`.
    pub name: &'static str,
    /// The item of issue 17's list it covers.
    pub covers: &'static str,
    /// Its steps and assertions.
    pub run: ScenarioFn,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("covers", &self.covers)
            .finish()
    }
}

/// Builds a [`Scenario`] from an `async fn(Ctx) -> Outcome`.
#[macro_export]
macro_rules! scenario {
    ($name:literal, $covers:literal, $steps:path) => {
        $crate::scenario::Scenario {
            name: $name,
            covers: $covers,
            run: |ctx| Box::pin($steps(ctx)),
        }
    };
}

/// What one scenario run has: its own prefix on the test Redis (deleted
/// afterwards), the producer's and the worker's adapters, and a probe.
pub struct Ctx {
    test_redis: TestRedis,
    probe: Probe,
    /// The adapter whose producer mode enqueues.
    pub producer: Adapter,
    /// The adapter whose worker mode runs the jobs.
    pub worker: Adapter,
}

impl Ctx {
    /// A context under a fresh prefix labelled `label`.
    pub async fn new(label: &str, producer: Adapter, worker: Adapter) -> Outcome<Self> {
        let test_redis = TestRedis::named(label).await?;
        let probe = Probe::new(test_redis.client(), test_redis.connection().await?);
        Ok(Self {
            test_redis,
            probe,
            producer,
            worker,
        })
    }

    /// The probe.
    pub fn probe(&self) -> &Probe {
        &self.probe
    }

    /// The Redis URL.
    pub fn url(&self) -> &str {
        self.test_redis.url()
    }

    /// The scenario's prefix.
    pub fn prefix(&self) -> &str {
        self.test_redis.prefix()
    }

    /// Starts a producer session of the producing adapter.
    pub async fn producer(&self) -> Outcome<Producer> {
        Producer::start(&self.producer, self.url(), self.prefix()).await
    }

    /// Starts a worker of the working adapter.
    pub async fn worker(&self, spec: &WorkerSpec) -> Outcome<WorkerProcess> {
        WorkerProcess::start(&self.worker, self.url(), self.prefix(), spec).await
    }

    /// A key for `conformance.record` entries, under the prefix.
    pub fn runs_key(&self, name: &str) -> String {
        self.probe.scratch_key(name)
    }

    /// Waits until `key` holds `count` run entries (at most `within`); returns them.
    pub async fn runs(&self, key: &str, count: usize, within: Duration) -> Outcome<Vec<RunEntry>> {
        eventually(within, || async {
            let runs = self.probe.runs(key).await?;
            ensure(runs.len() >= count, || {
                format!(
                    "expected {count} run(s) of the job(s), saw {}: {runs:?}",
                    runs.len()
                )
            })?;
            Ok(runs)
        })
        .await
    }

    /// Waits until the queue's counter `name` reaches `value`.
    pub async fn counter(&self, name: &str, value: i64, within: Duration) -> Outcome {
        eventually(within, || async {
            let found = self.probe.counters(QUEUE).await?.get(name);
            ensure(found == value, || {
                format!("counter {name} of the queue is {found}, expected {value}")
            })
        })
        .await
    }

    /// The envelope of a stored job (fails when the job is nowhere).
    pub async fn envelope(&self, id: &str) -> Outcome<Value> {
        self.probe
            .envelope(QUEUE, id)
            .await?
            .map(|(envelope, _)| envelope)
            .ok_or_else(|| Failure::new(format!("job {id} is not stored in any waiting place")))
    }
}
