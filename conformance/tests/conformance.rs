//! Every scenario against every implementation, each in both roles
//! (its producer enqueues, its worker runs). An adapter that is absent
//! is skipped unless `JOBQUEUE_CONFORMANCE_REQUIRE` names it.

mod support;

use jobqueue_conformance::scenarios;
use jobqueue_conformance::suite::{self, Pairing};

async fn passes_every_scenario(name: &str) {
    let wanted = support::adapters().wanted(name);
    let Some(adapter) = wanted.unwrap_or_else(|why| panic!("{why}")) else {
        eprintln!("SKIPPED: adapter {name} is not available and not required");
        return;
    };
    let results = suite::run(&Pairing::alone(&adapter), &scenarios::selected()).await;
    suite::assert_passed(&results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_passes_every_scenario() {
    passes_every_scenario("rust").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_passes_every_scenario() {
    passes_every_scenario("python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_passes_every_scenario() {
    passes_every_scenario("typescript").await;
}
