//! Payload compression and encryption against a real Redis
//! (docs/payload-encoding.md): encrypted jobs run on several worker
//! processes and Redis never holds the payload in clear; compressed payloads
//! shrink and round-trip; a missing or wrong key, or a tampered ciphertext,
//! sends the job to the dead set with the reason, never runs it and loses
//! nothing; key rotation while jobs flow loses none and leaves every stored
//! payload under the new key; the dashboard shows encrypted payloads
//! redacted unless it holds the key and the viewer is an operator.

use std::time::Duration;

use jobqueue_core::admin::JobSet;
use jobqueue_core::{Client, Job, JobContext, JobError, Keyring, PayloadCodec};
use jobqueue_integration::dashboard::{As, Dashboard, operator_config};
use jobqueue_integration::in_process_worker::test_worker;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{TestJobTraces, WorkerProcess, test_redis};
use jobqueue_testing::{TestRedis, eventually};
use jobqueue_worker::Worker;
use serde::{Deserialize, Serialize};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

/// 32 bytes of 0x01 and of 0x02, standard base64.
const K1: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const K2: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn keys(spec: &str) -> Keyring {
    Keyring::parse(spec).expect("keyring")
}

/// A client of `env`'s Redis and prefix writing with `codec`.
async fn client_with(env: &TestRedis, codec: PayloadCodec) -> Client {
    Client::with_config(env.client_config().payload_codec(codec))
        .await
        .expect("client")
}

/// The records of `env`'s default ready list.
async fn ready_records(env: &TestRedis) -> Vec<String> {
    let mut conn = env.connection().await.expect("connection");
    redis::cmd("LRANGE")
        .arg(format!("{}:{{default}}:ready", env.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("LRANGE")
}

/// The last error message of the dead job `id` on `default`.
async fn dead_reason(env: &TestRedis, id: uuid::Uuid) -> String {
    let job = env
        .client()
        .admin()
        .job("default", id)
        .await
        .expect("job")
        .expect("the dead job is kept");
    assert_eq!(job.state, jobqueue_core::JobState::Dead);
    job.errors.last().expect("an error").message.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_jobs_run_on_several_worker_processes_and_redis_never_holds_them_in_clear() {
    let env = test_redis("payload-processes").await;
    let producer = client_with(&env, PayloadCodec::plain().compress().encrypt(keys(K1))).await;
    let mut ids = Vec::new();
    for _ in 0..60 {
        ids.push(producer.enqueue(env.test_job()).await.expect("enqueue"));
    }
    let stored = ready_records(&env).await;
    assert_eq!(stored.len(), 60);
    for record in &stored {
        let (envelope, payload) = record.split_once('\n').expect("two lines");
        assert!(
            envelope.ends_with(r#","enc":"xchacha20poly1305:k1"}"#),
            "{envelope}"
        );
        assert!(
            payload.starts_with('"') && !payload.contains("redis://"),
            "{payload}"
        );
    }

    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.env
        .push(("JOBQUEUE_PAYLOAD_KEYS".to_owned(), K1.to_owned()));
    let _workers = [
        WorkerProcess::start(WORKER, &spec),
        WorkerProcess::start(WORKER, &spec),
    ];
    assert!(env.wait_done(60, Duration::from_secs(20)).await);
    let done = env.done().await;
    for id in &ids {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    let info = env.client().admin().queue("default").await.expect("queue");
    assert_eq!((info.ready, info.active, info.dead), (0, 0, 0));
}

/// A job with a large, compressible payload: records that it ran with
/// every item intact.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderJob {
    url: String,
    key: String,
    items: Vec<String>,
}

impl Job for OrderJob {
    const NAME: &'static str = "order_job";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        let intact = self.items.len() == 200
            && self
                .items
                .iter()
                .enumerate()
                .all(|(i, item)| *item == format!("item {i}: widget, blue, qty {}", i % 7));
        let mut conn = redis::Client::open(self.url.as_str())?
            .get_multiplexed_async_connection()
            .await?;
        let () = redis::cmd("RPUSH")
            .arg(&self.key)
            .arg(if intact { "intact" } else { "damaged" })
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_payloads_shrink_in_redis_and_run_intact() {
    let env = test_redis("payload-zstd").await;
    let key = format!("{}:orders", env.prefix());
    let job = OrderJob {
        url: env.url().to_owned(),
        key: key.clone(),
        items: (0..200)
            .map(|i| format!("item {i}: widget, blue, qty {}", i % 7))
            .collect(),
    };
    let plain_len = serde_json::to_vec(&job).expect("json").len();
    let producer = client_with(&env, PayloadCodec::plain().compress()).await;
    for _ in 0..5 {
        producer
            .job(job.clone())
            .queue("default")
            .enqueue()
            .await
            .expect("enqueue");
    }
    for record in ready_records(&env).await {
        let (envelope, payload) = record.split_once('\n').expect("two lines");
        assert!(envelope.ends_with(r#","enc":"zstd"}"#), "{envelope}");
        assert!(
            payload.len() * 4 < plain_len,
            "{} of {plain_len} bytes",
            payload.len()
        );
    }
    // Reading a compressed payload needs no key: the test helpers see the
    // jobs as enqueued, and a plain worker runs them.
    let enqueued = env.assert_enqueued_count::<OrderJob>(5).await;
    assert_eq!(enqueued[0].job.items, job.items);
    let worker = Worker::builder(env.client())
        .register::<OrderJob>()
        .queues(["default"])
        .allow_unserved_queues()
        .start()
        .await
        .expect("worker");
    let mut conn = env.connection().await.expect("connection");
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut conn = conn.clone();
            let key = key.clone();
            async move {
                let n: u64 = redis::cmd("LLEN")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap_or(0);
                n == 5
            }
        })
        .await
    );
    let marks: Vec<String> = redis::cmd("LRANGE")
        .arg(&key)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("LRANGE");
    assert_eq!(marks, vec!["intact"; 5]);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_wrong_key_sends_the_job_to_the_dead_set_unrun_and_a_retry_with_the_key_runs_it()
 {
    let env = test_redis("payload-keyless").await;
    let producer = client_with(&env, PayloadCodec::plain().encrypt(keys(K1))).await;
    let admin = env.client().admin();

    // A worker without keys.
    let no_keys = producer.enqueue(env.test_job()).await.expect("enqueue");
    let worker = test_worker(&env)
        .queues(["default"])
        .start()
        .await
        .expect("worker");
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.is_ok_and(|q| q.dead == 1)
        })
        .await
    );
    worker.shutdown().await;
    let reason = dead_reason(&env, no_keys).await;
    assert!(
        reason.contains("encrypted with key 'k1', but no payload keys are configured"),
        "{reason}"
    );

    // A worker holding another key.
    let wrong_key = producer.enqueue(env.test_job()).await.expect("enqueue");
    let k2_only = client_with(&env, PayloadCodec::plain().encrypt(keys(K2))).await;
    let worker = Worker::builder(k2_only)
        .register::<jobqueue_integration::jobs::TestJob>()
        .queues(["default"])
        .allow_unserved_queues()
        .start()
        .await
        .expect("worker");
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.is_ok_and(|q| q.dead == 2)
        })
        .await
    );
    worker.shutdown().await;
    let reason = dead_reason(&env, wrong_key).await;
    assert!(
        reason.contains("'k1', which is not in the keyring (keys: k2)"),
        "{reason}"
    );
    assert!(env.started().await.is_empty(), "neither job ran");

    // Nothing was lost: retried under a worker holding k1, both run.
    assert_eq!(
        admin
            .retry_all("default", JobSet::Dead)
            .await
            .expect("retry"),
        2
    );
    let both = client_with(
        &env,
        PayloadCodec::plain().encrypt(keys(&format!("{K2},{K1}"))),
    )
    .await;
    let worker = Worker::builder(both)
        .register::<jobqueue_integration::jobs::TestJob>()
        .queues(["default"])
        .allow_unserved_queues()
        .start()
        .await
        .expect("worker");
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
    let done = env.done().await;
    assert!(done.contains_key(&no_keys.to_string()) && done.contains_key(&wrong_key.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_ciphertext_is_refused_not_run() {
    let env = test_redis("payload-tampered").await;
    let producer = client_with(&env, PayloadCodec::plain().encrypt(keys(K1))).await;
    let id = producer.enqueue(env.test_job()).await.expect("enqueue");
    let record = ready_records(&env).await.remove(0);
    // Change one base64 character in the middle of the ciphertext.
    let (envelope, payload) = record.split_once('\n').expect("two lines");
    let mut bytes = payload.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{envelope}\n{}", String::from_utf8(bytes).expect("ascii"));
    let mut conn = env.connection().await.expect("connection");
    let () = redis::cmd("LSET")
        .arg(format!("{}:{{default}}:ready", env.prefix()))
        .arg(0)
        .arg(&tampered)
        .query_async(&mut conn)
        .await
        .expect("LSET");

    let worker = client_with(&env, PayloadCodec::plain().encrypt(keys(K1))).await;
    let worker = Worker::builder(worker)
        .register::<jobqueue_integration::jobs::TestJob>()
        .queues(["default"])
        .allow_unserved_queues()
        .start()
        .await
        .expect("worker");
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.is_ok_and(|q| q.dead == 1)
        })
        .await
    );
    worker.shutdown().await;
    let reason = dead_reason(&env, id).await;
    assert!(reason.contains("failed authentication"), "{reason}");
    assert!(env.started().await.is_empty(), "the job did not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_while_jobs_flow_loses_none_and_leaves_every_stored_payload_under_the_new_key() {
    let env = test_redis("payload-rotation").await;
    let old = client_with(&env, PayloadCodec::plain().compress().encrypt(keys(K1))).await;
    let rotating = PayloadCodec::plain().encrypt(keys(&format!("{K2},{K1}")));
    let admin = env.client().admin();
    // Jobs that stay stored through the test: due in an hour.
    let mut parked = Vec::new();
    for _ in 0..40 {
        parked.push(
            old.job(env.test_job())
                .delay(Duration::from_secs(3600))
                .enqueue()
                .await
                .expect("enqueue"),
        );
    }
    // Jobs that flow: ready ones (some prioritised), some failing once
    // (their record goes through the retry set), some due in a second.
    let mut flowing = Vec::new();
    for i in 0..300u32 {
        let mut job = env.test_job();
        job.sleep_ms = 5;
        job.fail_times = u32::from(i % 10 == 0);
        let builder = old.job(job);
        let builder = match i % 3 {
            0 => builder.priority(5),
            1 if i % 9 == 1 => builder.delay(Duration::from_millis(800)),
            _ => builder,
        };
        flowing.push(builder.enqueue().await.expect("enqueue"));
    }

    // Two worker processes that read both keys, running while rotation runs.
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.concurrency = 4;
    spec.env
        .push(("JOBQUEUE_PAYLOAD_KEYS".to_owned(), format!("{K2},{K1}")));
    let _workers = [
        WorkerProcess::start(WORKER, &spec),
        WorkerProcess::start(WORKER, &spec),
    ];
    let mut rotated = 0;
    let mut passes = 0;
    loop {
        let report = admin
            .rotate_payload_keys("default", &rotating, 25)
            .await
            .expect("rotate");
        assert_eq!(report.failed, 0, "{report:?}");
        rotated += report.rotated;
        passes += 1;
        let status = admin.payload_key_status("default").await.expect("status");
        if !status.by_key.contains_key("k1") && env.done_count().await >= 300 {
            break;
        }
        assert!(passes < 500, "rotation did not converge: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rotated >= 40, "rotated {rotated}");

    // None lost: every flowing job ran to success.
    assert!(env.wait_done(300, Duration::from_secs(30)).await);
    let done = env.done().await;
    for id in &flowing {
        assert!(done.contains_key(&id.to_string()), "{id} ran");
    }
    let info = admin.queue("default").await.expect("queue");
    assert_eq!((info.dead, info.scheduled), (0, 40), "{info:?}");
    // Every parked job is now under k2 only, and decrypts with k2 alone.
    let status = admin.payload_key_status("default").await.expect("status");
    assert_eq!(status.by_key.get("k2"), Some(&40), "{status:?}");
    assert_eq!(status.by_key.len(), 1, "{status:?}");
    let k2_only = PayloadCodec::plain().encrypt(keys(K2));
    for id in &parked {
        let mut job = admin.job("default", *id).await.expect("job").expect("kept");
        assert_eq!(
            job.payload_encoding.as_deref(),
            Some("xchacha20poly1305:k2")
        );
        job.reveal_payload(&k2_only).expect("decrypts with k2");
        assert!(job.payload.contains(env.url()), "{}", job.payload);
    }
}

#[tokio::test]
async fn the_dashboard_shows_encrypted_payloads_redacted_unless_it_holds_the_key_and_the_viewer_is_an_operator()
 {
    let env = test_redis("payload-dashboard").await;
    let producer = client_with(&env, PayloadCodec::plain().encrypt(keys(K1))).await;
    let mut job = env.test_job();
    job.key = format!("{}:<script>alert(1)</script>", job.key);
    let id = producer
        .job(job)
        .delay(Duration::from_secs(3600))
        .enqueue()
        .await
        .expect("enqueue");
    let api = format!("/api/v1/queues/default/job/{id}");
    let page = format!("/queues/default/job/{id}");

    let with_keys = Dashboard::new(&env, operator_config().payload_keys(keys(K1)));
    let without_keys = Dashboard::new(&env, operator_config());

    let shown = with_keys.get(&api, As::Operator).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let shown = shown.json();
    assert!(
        shown["payload"]
            .as_str()
            .is_some_and(|p| p.contains(env.url())),
        "{shown}"
    );
    assert!(shown.get("payload_redacted").is_none(), "{shown}");
    assert_eq!(shown["payload_encoding"], "xchacha20poly1305:k1");

    for (dashboard, who) in [(&with_keys, As::Reader), (&without_keys, As::Operator)] {
        let redacted = dashboard.get(&api, who).await.json();
        assert_eq!(redacted["payload"], "encrypted (key k1)", "{redacted}");
        assert_eq!(redacted["payload_redacted"], true);
        let html = dashboard.get(&page, who).await;
        assert_eq!(html.status, 200);
        assert!(html.body.contains("encrypted (key k1)"));
        assert!(!html.body.contains(env.url()));
    }
    // The operator's page shows it decrypted, hostile text escaped.
    let html = with_keys.get(&page, As::Browser).await;
    assert!(html.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.body.contains("<script>alert(1)"));
    // Lists never decrypt.
    let list = with_keys
        .get("/api/v1/queues/default/jobs/scheduled", As::Operator)
        .await
        .json();
    assert_eq!(list["jobs"][0]["payload"], "encrypted (key k1)", "{list}");
}

/// A producer that retries the enqueue of an encrypted job — under the
/// id it gave, or under an idempotency key — is told the job exists, as
/// with a plain one, though each encryption stores different bytes; a
/// different payload under the same id or key is still a conflict; and
/// the stored digest is keyed (not the SHA-1 of the plain payload, which a
/// reader of Redis could match against guesses).
#[tokio::test]
async fn retried_enqueues_of_an_encrypted_job_find_it_by_id_and_by_idempotency_key() {
    let env = test_redis("enc-retry").await;
    let producer = client_with(&env, PayloadCodec::plain().encrypt(keys(K1))).await;
    let job = env.test_job();
    let id = uuid::Uuid::now_v7();
    // Scheduled: its record is kept by id (in the jobs hash).
    let later = Duration::from_secs(60);
    for attempt in 0..3 {
        let outcome = producer
            .job(job.clone())
            .id(id)
            .delay(later)
            .enqueue_unique()
            .await
            .expect("enqueue under a given id");
        match (attempt, outcome) {
            (0, jobqueue_core::UniqueOutcome::Enqueued { id: got })
            | (_, jobqueue_core::UniqueOutcome::Exists { existing: got }) => assert_eq!(got, id),
            (attempt, other) => panic!("attempt {attempt}: {other:?}"),
        }
    }
    let mut other = job.clone();
    other.tag = 7;
    let err = producer
        .job(other.clone())
        .id(id)
        .delay(later)
        .enqueue()
        .await
        .expect_err("another payload under the id");
    assert_eq!(err.kind(), jobqueue_core::ErrorKind::Conflict, "{err}");
    // Once the marker lapsed, the record stored under the id answers.
    let mut conn = env.connection().await.expect("connection");
    let marker = env
        .client()
        .store()
        .queue_keys("default")
        .expect("queue")
        .id_marker(&id.to_string());
    let _: () = redis::cmd("DEL")
        .arg(&marker)
        .query_async(&mut conn)
        .await
        .expect("DEL");
    let retried = producer
        .job(job.clone())
        .id(id)
        .delay(later)
        .enqueue_unique()
        .await;
    assert!(
        matches!(retried, Ok(jobqueue_core::UniqueOutcome::Exists { existing }) if existing == id),
        "{retried:?}"
    );

    let window = Duration::from_secs(60);
    let first = producer
        .job(job.clone())
        .idempotency_key("order-4711", window)
        .enqueue()
        .await
        .expect("enqueue under a key");
    let again = producer
        .job(job.clone())
        .idempotency_key("order-4711", window)
        .enqueue()
        .await
        .expect("the retry finds it");
    assert_eq!(again, first);
    let err = producer
        .job(other)
        .idempotency_key("order-4711", window)
        .enqueue()
        .await
        .expect_err("another payload under the key");
    assert_eq!(err.kind(), jobqueue_core::ErrorKind::Conflict, "{err}");

    let held: String = redis::cmd("GET")
        .arg(&marker)
        .query_async(&mut conn)
        .await
        .expect("GET the marker");
    // Keyed: not the SHA-1 of the plain content, which anyone could match.
    assert_eq!(held.len(), 40, "{held}");
    let mut plain_content = Vec::from(&b"test_job\n"[..]);
    plain_content.extend(serde_json::to_vec(&job).expect("json"));
    let unkeyed: String = redis::cmd("EVAL")
        .arg("return redis.sha1hex(ARGV[1])")
        .arg(0)
        .arg(&plain_content)
        .query_async(&mut conn)
        .await
        .expect("SHA-1 of the plain content");
    assert_ne!(held, unkeyed);
    let ready = ready_records(&env).await;
    assert_eq!(ready.len(), 1, "the job under the key");
    assert!(ready[0].contains(",\"digest\":\""), "{}", ready[0]);
    // A job without a given id or key carries no digest.
    producer.enqueue(env.test_job()).await.expect("enqueue");
    let plain = ready_records(&env).await;
    assert!(!plain[1].contains("digest"), "{}", plain[1]);
}
