//! Which queues a worker serves: by default the queues of its registered
//! job types and cron entries; an explicit list that leaves one out is
//! refused at start unless allowed. And application state in a running
//! worker, cron entries of job types with state included.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jobqueue_core::cron::CronEntry;
use jobqueue_core::{Job, JobContext, JobError, StatefulJob, WorkerState};
use jobqueue_integration::test_redis;
use jobqueue_testing::eventually;
use jobqueue_worker::WorkerError;
use serde::{Deserialize, Serialize};

/// Counts the runs of each job type: the state of the workers below,
/// shared with the test as `Arc<Counters>`.
#[derive(Default)]
struct Counters {
    mail: AtomicUsize,
    ticks: AtomicUsize,
}

impl WorkerState for Counters {}

#[derive(Serialize, Deserialize)]
struct Mail;

impl StatefulJob for Mail {
    type State = Arc<Counters>;
    const NAME: &'static str = "queues_test.mail";
    const QUEUE: &'static str = "mail";
    async fn perform(&self, ctx: &JobContext<Arc<Counters>>) -> Result<(), JobError> {
        ctx.state().mail.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A cron job with state, on a queue of its own.
#[derive(Serialize, Deserialize)]
struct Tick;

impl StatefulJob for Tick {
    type State = Arc<Counters>;
    const NAME: &'static str = "queues_test.tick";
    const QUEUE: &'static str = "periodic";
    async fn perform(&self, ctx: &JobContext<Arc<Counters>>) -> Result<(), JobError> {
        ctx.state().ticks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A plain job on a worker with state.
#[derive(Serialize, Deserialize)]
struct Plain;

impl Job for Plain {
    const NAME: &'static str = "queues_test.plain";
    const QUEUE: &'static str = "plain";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_the_queues_of_its_job_types_and_cron_entries_with_their_state() {
    let env = test_redis("default-queues").await;
    let counters = Arc::new(Counters::default());
    let client = env.client();
    for _ in 0..3 {
        client.enqueue(Mail).await.unwrap();
    }
    client.enqueue(Plain).await.unwrap();
    // No .queues(..): mail, plain (job types) and periodic (cron entry).
    let worker = env
        .worker()
        .state(counters.clone())
        .register::<Mail>()
        .register::<Plain>()
        .register::<Tick>()
        .cron("* * * * * *", Tick)
        .idle_poll_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let ran = eventually(Duration::from_secs(10), || {
        let counters = counters.clone();
        async move {
            counters.mail.load(Ordering::SeqCst) == 3 && counters.ticks.load(Ordering::SeqCst) >= 1
        }
    })
    .await;
    let plain = client.admin().queue("plain").await.unwrap();
    worker.shutdown().await;
    assert!(
        ran,
        "mail runs {}, cron ticks {}",
        counters.mail.load(Ordering::SeqCst),
        counters.ticks.load(Ordering::SeqCst)
    );
    assert_eq!((plain.ready, plain.processed), (0, 1), "{plain:?}");
}

#[tokio::test]
async fn an_explicit_list_that_leaves_a_registered_queue_out_is_refused() {
    let env = test_redis("unserved-queues").await;
    let counters = Arc::new(Counters::default());
    let worker = || env.worker().state(counters.clone()).register::<Mail>();

    let err = worker().queues(["default"]).start().await.err();
    assert!(
        matches!(
            &err,
            Some(WorkerError::UnservedJobType { job_type, queue })
                if job_type == "queues_test.mail" && queue == "mail"
        ),
        "{err:?}"
    );
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("queues_test.mail") && message.contains("'mail'"),
        "{message}"
    );

    let entry = CronEntry::new("nightly-tick", "0 0 3 * * *", &Tick).unwrap();
    // The entry's runs go to `periodic`, served by other workers here.
    let err = worker()
        .cron_entry(entry)
        .weighted_queues([("mail", 1)])
        .start()
        .await
        .err();
    assert!(
        matches!(
            &err,
            Some(WorkerError::UnservedCronEntry { entry, queue })
                if entry == "nightly-tick" && queue == "periodic"
        ),
        "{err:?}"
    );

    // The opt-out: a worker that registers a type it does not serve.
    let running = worker()
        .queues(["default"])
        .allow_unserved_queues()
        .start()
        .await
        .unwrap();
    running.shutdown().await;
}
