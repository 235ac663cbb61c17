//! The basic path — enqueue, run, read the result — for every producer ×
//! every worker among the available implementations.

mod support;

use jobqueue_conformance::scenarios;
use jobqueue_conformance::suite::{self, Pairing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_producer_feeds_every_worker() {
    let found = support::adapters();
    if let Err(why) = found.check_required() {
        panic!("{why}");
    }
    let mut tasks = Vec::new();
    for producer in &found.available {
        for worker in &found.available {
            let pairing = Pairing {
                producer: producer.clone(),
                worker: worker.clone(),
            };
            tasks.push(tokio::spawn(async move {
                suite::run_one(&pairing, scenarios::cross()).await
            }));
        }
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("a pairing's task panicked"));
    }
    assert_eq!(results.len(), found.available.len().pow(2));
    suite::assert_passed(&results);
}
