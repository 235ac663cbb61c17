//! Chaos scenario 10: Redis freezes (SIGSTOP, as a host stalled by a fork,
//! swapping or a network that drops packets) for longer than the
//! producers' response timeout, again and again. An enqueue sent into a
//! freeze fails after the timeout with an unknown outcome, yet Redis runs
//! it when it thaws: the job was stored. Two producers retry every failed
//! enqueue until it succeeds:
//!
//! * one gives each job its id (`JobBuilder::id`) and retries with it: a
//!   retry of an attempt that was applied enqueues nothing. Every job must
//!   run exactly once: duplicates = 0, lost = 0.
//! * one enqueues plain jobs (a fresh id per attempt), as the docs warn
//!   not to: every applied-but-failed attempt becomes a duplicate, counted
//!   for contrast.
//!
//! The workers use their own client with the default (longer) timeout, and
//! the jobs' traces go to a second Redis that never freezes, so the audit
//! sees the producers' ambiguity alone.
//!
//! Size: `JQ_CHAOS_AMBIGUOUS_JOBS` (per producer, CI 800),
//! `JQ_CHAOS_AMBIGUOUS_FREEZES` (CI 3), `JQ_CHAOS_AMBIGUOUS_FREEZE_MS` (CI
//! 1,200; the producers' response timeout is 300 ms).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jobqueue_core::{Client, ErrorKind, UniqueOutcome};
use jobqueue_integration::chaos::{DeliveryAudit, Figures, param};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::traces::{trace_counts, trace_len};
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on, test_worker};
use jobqueue_testing::eventually;
use tokio::sync::Mutex;
use uuid::Uuid;

const RESPONSE_TIMEOUT: Duration = Duration::from_millis(300);

/// What one producer saw.
#[derive(Debug, Default)]
struct ProducerLog {
    /// Ids acknowledged, one per logical job.
    acknowledged: Vec<Uuid>,
    /// Failed attempts whose outcome was unknown.
    unknown: u64,
    /// Failed attempts certainly not applied.
    refused: u64,
    /// Retries that found the job already enqueued (an earlier attempt
    /// reported an error but was applied).
    found_applied: u64,
}

/// Enqueues `jobs` jobs on `queue`, retrying each until it succeeds; with
/// `with_id`, every attempt of a job carries the same id.
async fn produce(
    client: Client,
    template: TestJob,
    queue: &str,
    jobs: u64,
    with_id: bool,
) -> ProducerLog {
    let mut log = ProducerLog::default();
    for tag in 0..jobs {
        let job = TestJob {
            tag,
            ..template.clone()
        };
        let id = Uuid::now_v7();
        loop {
            let builder = client.job(job.clone()).queue(queue);
            let builder = if with_id { builder.id(id) } else { builder };
            match builder.enqueue_unique().await {
                Ok(outcome) => {
                    if matches!(outcome, UniqueOutcome::Exists { .. }) {
                        log.found_applied += 1;
                    }
                    log.acknowledged.push(outcome.id());
                    break;
                }
                Err(err) => {
                    match err.kind() {
                        ErrorKind::OutcomeUnknown => log.unknown += 1,
                        ErrorKind::Unavailable => log.refused += 1,
                        other => panic!("unexpected {other:?}: {err}"),
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_an_ambiguous_enqueue_with_its_id_never_duplicates_a_job() {
    let jobs = param("ambiguous_jobs", 800);
    let freezes = param("ambiguous_freezes", 3);
    let freeze_for = Duration::from_millis(param("ambiguous_freeze_ms", 1_200));
    assert!(freeze_for > RESPONSE_TIMEOUT * 2);
    let server = RedisServer::start();
    let traces = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-ambiguous").await;
    let producer_client =
        Client::with_config(env.client_config().response_timeout(RESPONSE_TIMEOUT))
            .await
            .unwrap();
    // Workers keep their leases through every freeze: an extra run here
    // could only come from an enqueue.
    let worker = test_worker(&env)
        .queues(["with_id", "plain"])
        .lease(freeze_for * 4 + Duration::from_secs(5))
        .concurrency(20)
        .start()
        .await
        .unwrap();
    let with_id_key = format!("{}:with-id", env.trace_key());
    let plain_key = format!("{}:plain", env.trace_key());
    let template = |key: &str| TestJob::new(&traces.url(), key);

    let producing = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let with_id = tokio::spawn(produce(
        producer_client.clone(),
        template(&with_id_key),
        "with_id",
        jobs,
        true,
    ));
    let plain = tokio::spawn(produce(
        producer_client.clone(),
        template(&plain_key),
        "plain",
        jobs,
        false,
    ));
    // Freezes spread over the run, while both producers are busy.
    let frozen = Arc::new(Mutex::new(0u64));
    let freezer = tokio::spawn({
        let (producing, frozen) = (Arc::clone(&producing), Arc::clone(&frozen));
        let server_pid_holder = server;
        async move {
            for _ in 0..freezes {
                tokio::time::sleep(Duration::from_millis(700)).await;
                if !producing.load(Ordering::Relaxed) {
                    break;
                }
                server_pid_holder.freeze();
                tokio::time::sleep(freeze_for).await;
                server_pid_holder.thaw();
                *frozen.lock().await += 1;
            }
            server_pid_holder
        }
    });
    let with_id = with_id.await.unwrap();
    let plain = plain.await.unwrap();
    producing.store(false, Ordering::Relaxed);
    let _server = freezer.await.unwrap();
    let freezes_done = *frozen.lock().await;
    let produce_s = started.elapsed().as_secs_f64();

    // Every job that exists runs: the queues drain.
    let admin = env.client().admin();
    let drained = eventually(Duration::from_secs(60 + jobs / 50), || async {
        let (a, b) = (admin.queue("with_id").await, admin.queue("plain").await);
        match (a, b) {
            (Ok(a), Ok(b)) => a.ready + a.active + b.ready + b.active == 0,
            _ => false,
        }
    })
    .await;
    worker.shutdown().await;
    assert!(drained, "the queues did not drain");

    let audit = DeliveryAudit::read(&traces.url(), &with_id_key, &with_id.acknowledged).await;
    audit.assert_none_lost();
    let with_id_done = trace_counts(&traces.url(), &format!("{with_id_key}:done")).await;
    let with_id_runs: u64 = with_id_done.values().sum();
    let with_id_queue = admin.queue("with_id").await.unwrap();
    // Duplicates of a logical job: extra runs, and extra records (a second
    // record under an id would be dead-lettered as a duplicate id).
    let with_id_duplicates = with_id_runs.saturating_sub(jobs) + with_id_queue.dead;
    let plain_ran = trace_len(&traces.url(), &format!("{plain_key}:done")).await;
    let plain_duplicates = plain_ran.saturating_sub(jobs);

    // (The last freeze may come after the producers finished.)
    assert!(freezes_done >= 1, "no freeze happened during the run");
    assert!(
        with_id.unknown >= 1,
        "a freeze made an enqueue's outcome unknown: {with_id:?}"
    );
    assert_eq!(with_id.acknowledged.len() as u64, jobs);
    assert_eq!(
        with_id_done.len() as u64,
        jobs,
        "every logical job ran under its one id"
    );
    assert_eq!(
        with_id_duplicates, 0,
        "retries with the same id duplicated jobs: {audit:?}, {with_id_queue:?}"
    );
    assert_eq!(audit.duplicate_starts, 0, "{audit:?}");

    Figures::new("ambiguous_enqueue")
        .delivery(&audit)
        .set("jobs_per_producer", jobs)
        .set("freezes", freezes_done)
        .set("freeze_ms", freeze_for.as_millis() as u64)
        .set("response_timeout_ms", RESPONSE_TIMEOUT.as_millis() as u64)
        .set("with_id_unknown_outcome_errors", with_id.unknown)
        .set("with_id_not_applied_errors", with_id.refused)
        .set(
            "with_id_retries_that_found_the_job_stored",
            with_id.found_applied,
        )
        .set("with_id_duplicates", with_id_duplicates)
        .set("plain_unknown_outcome_errors", plain.unknown)
        .set("plain_not_applied_errors", plain.refused)
        .set("plain_jobs_run", plain_ran)
        .set("plain_duplicates", plain_duplicates)
        .set("produce_s", produce_s)
        .publish();
}
