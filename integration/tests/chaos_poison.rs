//! Chaos scenario 5: poison and hostile input. Into a queue where thousands
//! of good jobs flow go records of random bytes, valid envelopes around
//! payloads that are not JSON or have the wrong shape, unknown job types,
//! a 10 MB record, jobs that panic, jobs that hang past their timeout, and
//! a job that fails on every attempt. Each bad one must end in the dead
//! set with a readable reason; the good ones must all run exactly once;
//! the workers must keep running. The producer refuses a 10 MB payload
//! with a clear error (the limit is configurable).
//!
//! Size: `JQ_CHAOS_POISON_GOOD_JOBS` (CI 3,000), `JQ_CHAOS_POISON_RANDOM`
//! (random-byte records, CI 50).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jobqueue_core::wire::record::{Envelope, FailureKind, encode_record};
use jobqueue_core::{
    Client, ClientConfig, DEFAULT_MAX_PAYLOAD_BYTES, ErrorKind, Job, JobContext, JobError, JobSet,
};
use jobqueue_integration::chaos::{DeliveryAudit, Figures, Fleet, param, producer};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_redis_on};
use jobqueue_testing::eventually;
use serde::{Deserialize, Serialize};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");
const HANGS: u64 = 12;
const PANICS: u64 = 10;
const ALWAYS_FAILING_ATTEMPTS: u32 = 25;

/// A job type no worker registers, with a payload of any size.
#[derive(Serialize, Deserialize)]
struct Blob {
    data: String,
}

impl Job for Blob {
    const NAME: &'static str = "blob";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_ends_in_the_dead_set_with_a_reason_and_good_jobs_keep_flowing() {
    let good_jobs = param("poison_good_jobs", 3_000);
    let random_records = param("poison_random", 50);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "chaos-poison").await;
    let queue = env.client().store().queue_keys("default").unwrap();

    // The producer refuses a 10 MB payload, saying what the limit is.
    let ten_mb = "x".repeat(10 * 1024 * 1024);
    let refused = env
        .client()
        .enqueue(Blob {
            data: ten_mb.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument, "{refused}");
    let message = refused.to_string();
    assert!(
        message.contains("above the limit")
            && message.contains(&DEFAULT_MAX_PAYLOAD_BYTES.to_string()),
        "{message}"
    );
    // A producer that raises the limit may send it (it dies as an unknown type).
    let roomy = Client::with_config(
        ClientConfig::new(env.url())
            .prefix(env.prefix())
            .max_payload_bytes(16 * 1024 * 1024),
    )
    .await
    .unwrap();
    let big_blob = roomy.enqueue(Blob { data: ten_mb }).await.unwrap();

    // Hostile records written straight into the ready list, as a buggy
    // producer in another language could.
    let mut expected_dead: HashMap<String, FailureKind> = HashMap::new();
    let mut raw: Vec<Vec<u8>> = Vec::new();
    for n in 0..random_records {
        let len = fastrand::usize(1..400);
        let mut bytes: Vec<u8> = (0..len).map(|_| fastrand::u8(..)).collect();
        if n % 2 == 0 {
            // Half of them look like a record until the id.
            let mut head = br#"{"id":"#.to_vec();
            head.append(&mut bytes);
            bytes = head;
        }
        raw.push(bytes);
    }
    // Records too short to carry an id all read as the same empty id.
    raw.extend([
        b"a".to_vec(),
        b"bc".to_vec(),
        b"\x00".to_vec(),
        b"{}".to_vec(),
    ]);
    let random_count = raw.len() as u64;
    let mut add_envelope = |job_type: &str, payload: &[u8], kind: FailureKind| {
        let envelope = Envelope::new(job_type);
        expected_dead.insert(envelope.id.to_string(), kind);
        raw.push(encode_record(&envelope, payload).unwrap());
    };
    let noise: Vec<u8> = (0..200).map(|_| fastrand::u8(..)).collect();
    add_envelope("test_job", &noise, FailureKind::Payload);
    add_envelope("test_job", br#"{"x":1}"#, FailureKind::Payload);
    add_envelope("test_job", b"[1,2,3]", FailureKind::Payload);
    add_envelope("test_job", b"", FailureKind::Payload);
    add_envelope("no_such_job", b"{}", FailureKind::UnknownType);
    let huge = format!(r#"{{"data":"{}"}}"#, "y".repeat(10 * 1024 * 1024));
    add_envelope("test_job", huge.as_bytes(), FailureKind::Payload);
    expected_dead.insert(big_blob.to_string(), FailureKind::UnknownType);
    let mut conn = env.connection().await.unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg(queue.ready())
        .arg(&raw)
        .query_async(&mut conn)
        .await
        .unwrap();

    // Jobs that panic, hang past their timeout, or always fail.
    for tag in 0..PANICS {
        let mut job = env.test_job();
        job.panic = true;
        job.tag = tag;
        let id = env
            .client()
            .job(job)
            .max_attempts(2)
            .enqueue()
            .await
            .unwrap();
        expected_dead.insert(id.to_string(), FailureKind::Panic);
    }
    for tag in 0..HANGS {
        let mut job = env.test_job();
        job.sleep_ms = 3_600_000;
        job.ignore_cancel = true;
        job.tag = tag;
        let id = env
            .client()
            .job(job)
            .timeout(Duration::from_millis(300))
            .max_attempts(1)
            .enqueue()
            .await
            .unwrap();
        expected_dead.insert(id.to_string(), FailureKind::Timeout);
    }
    let mut always_failing = env.test_job();
    always_failing.fail_times = u32::MAX;
    let always_failing = env
        .client()
        .job(always_failing)
        .max_attempts(ALWAYS_FAILING_ATTEMPTS)
        .enqueue()
        .await
        .unwrap();
    expected_dead.insert(always_failing.to_string(), FailureKind::Error);

    // The good jobs, then the workers (few slots, so hung jobs that kept
    // theirs would stall everything).
    let good = producer::enqueue_traced(&env, good_jobs, &env.test_job()).await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.concurrency = 4;
    let mut fleet = Fleet::start(WORKER, spec, queue.clone(), 2).await;
    let started = Instant::now();
    let admin = env.client().admin();
    let poison_total = random_count + expected_dead.len() as u64;
    let settled = eventually(Duration::from_secs(60 + good_jobs / 200), || async {
        let info = admin.queue("default").await.unwrap();
        info.dead >= poison_total && env.done_count().await >= good_jobs
    })
    .await;
    let run_time = started.elapsed();
    let info = admin.queue("default").await.unwrap();
    assert!(
        settled,
        "expected {poison_total} dead and {good_jobs} good jobs done: {info:?}, done {}",
        env.done_count().await
    );

    let audit = DeliveryAudit::of(&env, &good).await;
    audit.assert_none_lost();
    assert_eq!(audit.duplicate_starts, 0, "good jobs ran once");
    assert_eq!(
        (info.ready, info.active, info.retry, info.dead),
        (0, 0, 0, poison_total),
        "{info:?}"
    );

    // Every dead job says why, in words, with the kind of failure expected.
    let mut dead = Vec::new();
    loop {
        let page = admin
            .list("default", JobSet::Dead, dead.len(), 1000)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        dead.extend(page);
    }
    assert_eq!(dead.len() as u64, poison_total);
    let mut malformed = 0;
    for job in &dead {
        let last = job
            .errors
            .last()
            .unwrap_or_else(|| panic!("dead job {} has no reason", job.id));
        assert!(last.message.len() > 5, "unreadable reason: {last:?}");
        match expected_dead.get(&job.id.to_string()) {
            Some(kind) => assert_eq!(last.kind, *kind, "{}: {}", job.id, last.message),
            None => {
                assert_eq!(last.kind, FailureKind::Malformed, "{}", last.message);
                malformed += 1;
            }
        }
    }
    assert_eq!(
        malformed, random_count,
        "every random record is dead-lettered"
    );
    let failing = admin
        .job("default", always_failing)
        .await
        .unwrap()
        .expect("the always-failing job is in the dead set");
    assert_eq!(failing.attempt, ALWAYS_FAILING_ATTEMPTS);

    let alive = fleet.worker_count_running();
    assert_eq!(alive, 2, "a worker died on poison");
    assert!(fleet.stop_all(Duration::from_secs(15)).await);

    Figures::new("poison")
        .delivery(&audit)
        .set("good_jobs", good_jobs)
        .set("poison_records", poison_total)
        .set("random_byte_records", random_count)
        .set("panics", PANICS)
        .set("hangs_past_timeout", HANGS)
        .set(
            "always_failing_attempts",
            u64::from(ALWAYS_FAILING_ATTEMPTS),
        )
        .set("dead", info.dead)
        .set("run_s", run_time.as_secs_f64())
        .set("producer_limit_bytes", DEFAULT_MAX_PAYLOAD_BYTES as u64)
        .publish();
}

/// Found by the long poison run: two malformed records whose id bytes are
/// equal (any two shorter than 8 bytes read as the same empty id) were
/// leased under one key of the active hash; when their outcomes were
/// written in separate calls, the second found nothing and its record was
/// dropped. Now a colliding malformed record is not leased until the key
/// is free: everything fetched is held, and both end in the dead set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_records_with_colliding_ids_are_leased_one_at_a_time() {
    use jobqueue_core::store::{BuryEntry, CompletionBatch, DeadLimits};

    let env = test_redis("poison-collide").await;
    let client = env.client();
    let store = client.store();
    let q = store.queue_keys("default").unwrap();
    let mut conn = env.connection().await.unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg(q.ready())
        .arg(&[b"short-1".to_vec(), b"short-2".to_vec()])
        .query_async(&mut conn)
        .await
        .unwrap();
    let worker = "collide-w";
    let active = q.active(worker);
    store
        .heartbeat(&q, worker, Duration::from_secs(60))
        .await
        .unwrap();
    let mut buried = Vec::new();
    for round in 0..2 {
        let fetched = store.fetch(&q, &active, worker, 10).await.unwrap().records;
        assert_eq!(fetched.len(), 1, "round {round}: one of the two at a time");
        let held: u64 = redis::cmd("HLEN")
            .arg(&active)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(held, 1, "everything fetched is held");
        // Each outcome in its own call, as a worker writes them when they
        // finish apart.
        let batch = CompletionBatch {
            buries: vec![BuryEntry {
                leased_id: Vec::new(),
                dead_id: uuid::Uuid::now_v7().to_string(),
                record: fetched[0].clone(),
            }],
            ..CompletionBatch::default()
        };
        let report = store
            .complete(&q, &active, &batch, DeadLimits::default())
            .await
            .unwrap();
        assert_eq!(report.buried, 1);
        buried.push(fetched[0].clone());
    }
    buried.sort();
    assert_eq!(buried, vec![b"short-1".to_vec(), b"short-2".to_vec()]);
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!((info.ready, info.active, info.dead), (0, 0, 2));
}
