//! Running scenarios for a pairing (which adapter produces, which works),
//! several at once, and the report: one line per scenario × pairing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::adapters::Adapter;
use crate::known_failing::is_known_failing;
use crate::scenario::{Ctx, Scenario};

/// Most scenarios of one suite run at once (each starts one or two
/// adapter processes; the machine has 2 cores).
pub const PARALLEL_SCENARIOS: usize = 6;
/// Longest a scenario may take before it counts as failed.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(90);

/// The producing and the working adapter of a run.
#[derive(Debug, Clone)]
pub struct Pairing {
    /// Enqueues and reads statuses.
    pub producer: Adapter,
    /// Runs the jobs.
    pub worker: Adapter,
}

impl Pairing {
    /// One adapter in both roles.
    pub fn alone(adapter: &Adapter) -> Self {
        Self {
            producer: adapter.clone(),
            worker: adapter.clone(),
        }
    }

    /// `producer→worker`, or the name alone when both are the same; an
    /// adapter run with extra environment (a deliberate break) shows it.
    pub fn label(&self) -> String {
        let name = |adapter: &Adapter| {
            let env: Vec<String> = adapter
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if env.is_empty() {
                adapter.name.clone()
            } else {
                format!("{}[{}]", adapter.name, env.join(","))
            }
        };
        if self.producer == self.worker {
            name(&self.producer)
        } else {
            format!("{}→{}", name(&self.producer), name(&self.worker))
        }
    }

    fn known_failing(&self, scenario: &str) -> bool {
        is_known_failing(&self.producer.name, scenario)
            || is_known_failing(&self.worker.name, scenario)
    }
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It passed.
    Passed,
    /// It failed: why.
    Failed(String),
    /// It failed and is on the known-failing list: why.
    KnownFailing(String),
    /// It passed although it is on the known-failing list.
    PassedButListed,
}

/// One scenario's run for one pairing.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario.
    pub scenario: &'static str,
    /// What it covers.
    pub covers: &'static str,
    /// The pairing's label.
    pub pairing: String,
    /// How it ended.
    pub verdict: Verdict,
    /// How long it took.
    pub took: Duration,
}

/// Runs `scenarios` for `pairing`, [`PARALLEL_SCENARIOS`] at a time.
pub async fn run(pairing: &Pairing, scenarios: &[Scenario]) -> Vec<ScenarioResult> {
    let permits = Arc::new(Semaphore::new(PARALLEL_SCENARIOS));
    let mut tasks = Vec::new();
    for scenario in scenarios.iter().copied() {
        let pairing = pairing.clone();
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            run_one(&pairing, scenario).await
        }));
    }
    let mut results = Vec::new();
    for (task, scenario) in tasks.into_iter().zip(scenarios) {
        results.push(task.await.unwrap_or_else(|err| ScenarioResult {
            scenario: scenario.name,
            covers: scenario.covers,
            pairing: pairing.label(),
            verdict: Verdict::Failed(format!("the scenario's task failed: {err}")),
            took: Duration::ZERO,
        }));
    }
    results
}

/// Runs one scenario for `pairing`.
pub async fn run_one(pairing: &Pairing, scenario: Scenario) -> ScenarioResult {
    let started = Instant::now();
    let label = format!("conf-{}", scenario.name.replace('.', "-"));
    let outcome = match Ctx::new(&label, pairing.producer.clone(), pairing.worker.clone()).await {
        Ok(ctx) => match tokio::time::timeout(SCENARIO_TIMEOUT, (scenario.run)(ctx)).await {
            Ok(outcome) => outcome.map_err(|failure| failure.0),
            Err(_) => Err(format!(
                "did not finish within {} s",
                SCENARIO_TIMEOUT.as_secs()
            )),
        },
        Err(failure) => Err(failure.0),
    };
    let listed = pairing.known_failing(scenario.name);
    let verdict = match (outcome, listed) {
        (Ok(()), false) => Verdict::Passed,
        (Ok(()), true) => Verdict::PassedButListed,
        (Err(why), false) => Verdict::Failed(why),
        (Err(why), true) => Verdict::KnownFailing(why),
    };
    ScenarioResult {
        scenario: scenario.name,
        covers: scenario.covers,
        pairing: pairing.label(),
        verdict,
        took: started.elapsed(),
    }
}

/// The report: one line per result, then each failure's reason; known
/// failures are marked loudly.
pub fn report(results: &[ScenarioResult]) -> String {
    let mut text = String::new();
    for result in results {
        let mark = match &result.verdict {
            Verdict::Passed => "pass",
            Verdict::Failed(_) => "FAIL",
            Verdict::KnownFailing(_) => "KNOWN-FAILING (listed in known_failing.rs)",
            Verdict::PassedButListed => "PASS BUT LISTED AS KNOWN-FAILING: take it off the list",
        };
        text.push_str(&format!(
            "{:<18} {:<44} {:>6} ms  {mark}\n",
            result.pairing,
            result.scenario,
            result.took.as_millis()
        ));
    }
    for result in results {
        match &result.verdict {
            Verdict::Failed(why) => text.push_str(&format!(
                "\nFAILED {} [{}] ({}):\n  {}\n",
                result.scenario,
                result.pairing,
                result.covers,
                why.replace('\n', "\n  ")
            )),
            Verdict::KnownFailing(why) => text.push_str(&format!(
                "\n!!! KNOWN-FAILING {} [{}] ({}), not counted:\n  {}\n",
                result.scenario,
                result.pairing,
                result.covers,
                why.lines().next().unwrap_or_default()
            )),
            _ => {}
        }
    }
    text
}

/// Prints the report and panics (failing the test) when a scenario that
/// is not on the known-failing list failed.
pub fn assert_passed(results: &[ScenarioResult]) {
    let text = report(results);
    eprintln!("{text}");
    let failed = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Failed(_)))
        .count();
    assert!(
        failed == 0,
        "{failed} conformance scenario(s) failed:\n{text}"
    );
}
