//! The suite tested on itself: an implementation that breaks the protocol
//! on purpose must fail the scenario that covers it, with a message naming
//! what is wrong. `JOBQUEUE_CONFORMANCE_BREAK=error_history` makes the
//! Python adapter's worker bury jobs without the error entries it must
//! append (conformance/adapters/python/adapter.py, `apply_break`);
//! `=priority` makes the Rust adapter's producer drop the job's priority
//! (`rust_adapter::producer::DeliberateBreak`).

// Joining two whole scenario runs makes a deep future type.
#![recursion_limit = "256"]

mod support;

use jobqueue_conformance::adapters::{Adapter, ENV_BREAK};
use jobqueue_conformance::scenarios;
use jobqueue_conformance::suite::{self, Pairing, Verdict};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_drops_the_error_history_fails_the_suite() {
    let wanted = support::adapters().wanted("python");
    let Some(python) = wanted.unwrap_or_else(|why| panic!("{why}")) else {
        eprintln!("SKIPPED: the Python adapter is not available and not required");
        return;
    };
    let scenario = scenarios::named("worker.bury_with_error_history").expect("the scenario exists");
    let broken = python.clone().with_env(ENV_BREAK, "error_history");
    let (honest, broken) = (Pairing::alone(&python), Pairing::alone(&broken));
    let (honest, broken) = tokio::join!(
        suite::run_one(&honest, scenario),
        suite::run_one(&broken, scenario),
    );
    eprintln!("{}", suite::report(&[honest.clone(), broken.clone()]));
    assert_eq!(
        honest.verdict,
        Verdict::Passed,
        "the unbroken adapter passes"
    );
    let Verdict::Failed(why) = &broken.verdict else {
        panic!(
            "the broken adapter must fail the scenario, got {:?}",
            broken.verdict
        );
    };
    assert!(
        why.contains("error entries") && why.contains("the error history was not written"),
        "the failure names what is wrong: {why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_that_drops_the_priority_fails_the_suite() {
    // This package's own binary, whatever JOBQUEUE_CONFORMANCE_ADAPTERS says.
    let rust = Adapter::new(
        "rust",
        vec![env!("CARGO_BIN_EXE_jobqueue-conformance-rust").to_owned()],
    );
    let scenario = scenarios::named("enqueue.with_options").expect("the scenario exists");
    let broken = Pairing::alone(&rust.with_env(ENV_BREAK, "priority"));
    let result = suite::run_one(&broken, scenario).await;
    eprintln!("{}", suite::report(std::slice::from_ref(&result)));
    let Verdict::Failed(why) = &result.verdict else {
        panic!(
            "the broken adapter must fail the scenario, got {:?}",
            result.verdict
        );
    };
    assert!(
        why.contains("envelope priority"),
        "the failure names what is wrong: {why}"
    );
}
