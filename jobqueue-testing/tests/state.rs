//! Application state in jobs, through the testing helpers: each test gives
//! its drain a state of its own, so tests with different states run in
//! parallel without globals; and the worker's log on a job's last attempt.

use std::io::Write;
use std::sync::{Arc, Mutex};

use jobqueue_core::{Job, JobContext, JobError, StatefulJob, WorkerState};
use jobqueue_testing::{DrainOptions, TestRedis};
use serde::{Deserialize, Serialize};

/// What a test's jobs see: a name, and where sent mails are logged.
struct Mailer {
    name: String,
    sent: Arc<Mutex<Vec<String>>>,
}

impl WorkerState for Mailer {}

/// A job that takes state: logs its address in the mailer's log.
#[derive(Debug, Serialize, Deserialize)]
struct SendWelcomeEmail {
    email: String,
}

impl StatefulJob for SendWelcomeEmail {
    type State = Mailer;
    const NAME: &'static str = "state_test.send_welcome_email";
    const QUEUE: &'static str = "mail";

    async fn perform(&self, ctx: &JobContext<Mailer>) -> Result<(), JobError> {
        let mailer = ctx.state();
        // Let the other test's drain run in between.
        tokio::task::yield_now().await;
        mailer
            .sent
            .lock()
            .map_err(|_| JobError::permanent("poisoned"))?
            .push(format!("{} -> {}", mailer.name, self.email));
        Ok(())
    }
}

/// A job without state, on the same worker.
#[derive(Debug, Serialize, Deserialize)]
struct Ping;

impl Job for Ping {
    const NAME: &'static str = "state_test.ping";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// One test's body, with its own state; returns what its mailer sent.
async fn run_with_state(name: &'static str) -> Vec<String> {
    let t = TestRedis::new().await.expect("test redis");
    for user in ["ada", "grace"] {
        let email = format!("{user}@{name}.example");
        t.client()
            .enqueue(SendWelcomeEmail { email })
            .await
            .expect("enqueue");
    }
    t.client().enqueue(Ping).await.expect("enqueue ping");
    // The testing helpers decode jobs with state like any other.
    t.assert_enqueued::<SendWelcomeEmail>(|job| job.email == format!("ada@{name}.example"))
        .await;
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mailer = Mailer {
        name: name.to_owned(),
        sent: sent.clone(),
    };
    let worker = t
        .worker()
        .state(mailer)
        .register::<SendWelcomeEmail>()
        .register::<Ping>();
    let report = t.drain(worker).await.expect("drain");
    assert_eq!(report.succeeded(), 3, "{report:?}");
    sent.lock().expect("sent").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tests_with_different_states_run_in_parallel() {
    let (first, second) = tokio::join!(
        tokio::spawn(run_with_state("first")),
        tokio::spawn(run_with_state("second"))
    );
    assert_eq!(
        first.expect("first test"),
        ["first -> ada@first.example", "first -> grace@first.example"]
    );
    assert_eq!(
        second.expect("second test"),
        [
            "second -> ada@second.example",
            "second -> grace@second.example"
        ]
    );
}

/// Fails every time, with two attempts.
#[derive(Debug, Serialize, Deserialize)]
struct AlwaysFails;

impl Job for AlwaysFails {
    const NAME: &'static str = "state_test.always_fails";
    const MAX_ATTEMPTS: u32 = 2;
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Err(JobError::retry("upstream said no"))
    }
}

/// Collects the log lines written while a subscriber is the default.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The first failure says the job will be retried; the last one does not
/// (it said so right before "job is dead" before).
#[tokio::test(flavor = "current_thread")]
async fn the_last_attempt_does_not_promise_a_retry() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let t = TestRedis::new().await.expect("test redis");
    t.client().enqueue(AlwaysFails).await.expect("enqueue");
    let report = t
        .drain_with(
            t.worker().register::<AlwaysFails>(),
            DrainOptions::new().with_retries(),
        )
        .await
        .expect("drain");
    assert_eq!((report.retried(), report.dead()), (1, 1), "{report:?}");

    let log = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("will be retried") || line.contains("job is dead"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("will be retried"), "{log}");
    assert!(lines[1].contains("job is dead"), "{log}");
}
