//! Idempotency keys (`JobBuilder::idempotency_key`): one job per key within
//! its window — also after the job finished — a conflict for another
//! payload, a new job after the window, bulk enqueues, and concurrent
//! enqueues from several clients creating exactly one job.

use std::time::Duration;

use jobqueue_core::{Error, UniqueOutcome};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::eventually;
use redis::AsyncCommands;

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_returns_the_first_job_even_after_it_finished() {
    let env = test_redis("idem-after").await;
    let client = env.client();
    let mut first = env.test_job();
    first.tag = 1;
    let id = client
        .job(first.clone())
        .idempotency_key("order-42", DAY)
        .enqueue()
        .await
        .unwrap();
    let again = client
        .job(first.clone())
        .idempotency_key("order-42", DAY)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(again, UniqueOutcome::Exists { existing: id });
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    // Finished: still the same job, nothing new enqueued.
    let after = client
        .job(first.clone())
        .idempotency_key("order-42", DAY)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(after, UniqueOutcome::Exists { existing: id });
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!((info.ready, info.processed), (0, 1));
    // Another payload under the key: refused, naming the first job.
    let mut other = first.clone();
    other.tag = 2;
    let refused = client
        .job(other)
        .idempotency_key("order-42", DAY)
        .enqueue()
        .await
        .unwrap_err();
    match refused {
        Error::IdempotencyConflict { original, .. } => assert_eq!(original, id),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(refused_kind(&client).await, 0, "nothing was enqueued");
}

async fn refused_kind(client: &jobqueue_core::Client) -> u64 {
    client.admin().queue("default").await.unwrap().ready
}

#[tokio::test]
async fn a_key_past_its_window_enqueues_a_new_job_and_its_memory_is_bounded() {
    let env = test_redis("idem-window").await;
    let client = env.client();
    let job = NoopJob { n: 0 };
    let window = Duration::from_millis(300);
    let first = client
        .job(job.clone())
        .idempotency_key("k", window)
        .enqueue()
        .await
        .unwrap();
    let mut conn = env.connection().await.unwrap();
    let keys: Vec<String> = conn
        .keys(format!("{}:{{default}}:idem:*", env.prefix()))
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "one marker per key");
    let ttl: i64 = conn.pttl(&keys[0]).await.unwrap();
    assert!(
        ttl > 0 && ttl <= 300,
        "the marker lives its window: {ttl} ms"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = client
        .job(job)
        .idempotency_key("k", window)
        .enqueue()
        .await
        .unwrap();
    assert_ne!(first, second, "after the window the key is free again");
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 2);
}

#[tokio::test]
async fn bulk_enqueues_honour_idempotency_keys() {
    let env = test_redis("idem-bulk").await;
    let client = env.client();
    let job = |tag: u64| {
        let mut job = env.test_job();
        job.tag = tag;
        job
    };
    let prepared = vec![
        client
            .job(job(1))
            .idempotency_key("a", DAY)
            .prepare()
            .unwrap(),
        client
            .job(job(1))
            .idempotency_key("a", DAY)
            .prepare()
            .unwrap(),
        client
            .job(job(2))
            .idempotency_key("a", DAY)
            .prepare()
            .unwrap(),
        client
            .job(job(3))
            .idempotency_key("b", DAY)
            .prepare()
            .unwrap(),
        client.job(job(4)).prepare().unwrap(),
    ];
    let first_id = prepared[0].id();
    let outcomes = client.enqueue_prepared_outcomes(prepared).await.unwrap();
    assert_eq!(
        outcomes[0].as_ref().unwrap(),
        &UniqueOutcome::Enqueued { id: first_id }
    );
    assert_eq!(
        outcomes[1].as_ref().unwrap(),
        &UniqueOutcome::Exists { existing: first_id }
    );
    assert!(matches!(
        outcomes[2],
        Err(Error::IdempotencyConflict { original, .. }) if original == first_id
    ));
    assert!(matches!(outcomes[3], Ok(UniqueOutcome::Enqueued { .. })));
    assert!(matches!(outcomes[4], Ok(UniqueOutcome::Enqueued { .. })));
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_from_many_clients_create_exactly_one_job() {
    let env = test_redis("idem-race").await;
    let job = env.test_job();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        // A client of its own each: its own connections, as separate
        // processes would have.
        let client = jobqueue_core::Client::with_config(env.client_config())
            .await
            .unwrap();
        let job = job.clone();
        tasks.push(tokio::spawn(async move {
            client
                .job(job)
                .idempotency_key("pay-1", DAY)
                .enqueue()
                .await
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every enqueue got the one job: {ids:?}");
    let env_ref = &env;
    assert!(
        eventually(Duration::from_secs(1), || async {
            env_ref
                .client()
                .admin()
                .queue("default")
                .await
                .unwrap()
                .ready
                == 1
        })
        .await,
        "exactly one job was created"
    );
}

/// Several OS processes (`idempotent_enqueuer`) enqueue under the same key
/// at the same instant, single and bulk: exactly one job is created, every
/// other enqueue names it (`exists` for its payload, `conflict` for the
/// one process with another payload).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_from_several_processes_create_exactly_one_job() {
    const ENQUEUER: &str = env!("CARGO_BIN_EXE_idempotent_enqueuer");
    const PROCESSES: usize = 5;
    const ENQUEUES: usize = 40;
    let env = test_redis("idem-processes").await;
    let start_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 1500;
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            // The last process enqueues another payload under the key.
            let payload = if p == PROCESSES - 1 { "2" } else { "1" };
            std::process::Command::new(ENQUEUER)
                .env("JQ_URL", env.url())
                .env("JQ_PREFIX", env.prefix())
                .env("JQ_KEY", "order-7")
                .env("JQ_PAYLOAD", payload)
                .env("JQ_ENQUEUES", ENQUEUES.to_string())
                .env("JQ_START_AT_MS", start_at.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn the enqueuer")
        })
        .collect();
    let outputs: Vec<(usize, String)> = children
        .into_iter()
        .enumerate()
        .map(|(p, child)| {
            let out = child.wait_with_output().expect("enqueuer output");
            assert!(out.status.success(), "enqueuer {p} failed");
            (p, String::from_utf8(out.stdout).unwrap())
        })
        .collect();
    let lines: Vec<(usize, &str, &str)> = outputs
        .iter()
        .flat_map(|(p, text)| {
            text.lines().map(move |line| {
                let (kind, id) = line.split_once(' ').expect("outcome line");
                (*p, kind, id)
            })
        })
        .collect();
    assert_eq!(lines.len(), PROCESSES * ENQUEUES, "every enqueue answered");
    let created: Vec<&(usize, &str, &str)> = lines
        .iter()
        .filter(|(_, kind, _)| *kind == "enqueued")
        .collect();
    assert_eq!(created.len(), 1, "exactly one job created: {created:?}");
    let (winner, _, id) = *created[0];
    let winner_payload = winner == PROCESSES - 1;
    for (p, kind, named) in &lines {
        assert_eq!(named, &id, "every outcome names the one job");
        let same_payload = (*p == PROCESSES - 1) == winner_payload;
        match *kind {
            "enqueued" => {}
            "exists" => assert!(same_payload, "process {p}: exists for another payload"),
            "conflict" => assert!(!same_payload, "process {p}: conflict for the same payload"),
            other => panic!("unexpected outcome {other}"),
        }
    }
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!(info.ready, 1, "one job in the queue");
}

/// The content digest the client computes and passes to
/// `enqueue_idempotent.lua` (SHA-1 of type and payload) is the one the
/// scripts compute themselves: a job enqueued with `.id(..)` alone
/// (`enqueue_with_id.lua`, digest computed in Lua) is the same job for an
/// idempotent enqueue with that id, and another payload under the id is
/// refused. A generated id gets no id marker (it cannot collide).
#[tokio::test]
async fn client_and_script_digests_agree_and_generated_ids_get_no_id_marker() {
    let env = test_redis("idem-digest").await;
    let client = env.client();
    let id = uuid::Uuid::now_v7();
    client.job(NoopJob { n: 7 }).id(id).enqueue().await.unwrap();
    let again = client
        .job(NoopJob { n: 7 })
        .id(id)
        .idempotency_key("order-7", DAY)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(again, UniqueOutcome::Exists { existing: id });
    let other = client
        .job(NoopJob { n: 8 })
        .id(id)
        .idempotency_key("order-8", DAY)
        .enqueue()
        .await
        .unwrap_err();
    assert!(
        matches!(other, Error::DuplicateId { id: taken, .. } if taken == id),
        "{other:?}"
    );

    let fresh = client
        .job(NoopJob { n: 9 })
        .idempotency_key("order-9", DAY)
        .enqueue()
        .await
        .unwrap();
    let base = format!("{}:{{default}}", env.prefix());
    let mut conn = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let marker: Option<String> = conn.get(format!("{base}:id:{fresh}")).await.unwrap();
    assert_eq!(marker, None, "no id marker for a generated id");
    let keys: Vec<String> = conn.keys(format!("{base}:idem:*")).await.unwrap();
    let mut held = Vec::new();
    for key in keys {
        let value: String = conn.get(&key).await.unwrap();
        held.push(value);
    }
    assert!(
        held.iter()
            .any(|value| value.starts_with(&format!("{fresh} ")) && value.len() == 36 + 1 + 40),
        "the key's marker is `<id> <sha1>`: {held:?}"
    );
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!(info.ready, 2);
}

/// `enqueue_idempotent_ready.lua` as another language's producer calls it
/// (its source is `include/lib.lua` followed by the script, docs/protocol.md):
/// bad arguments get a clear error and write nothing; good ones enqueue,
/// then answer `exists` / `conflict` with the original id.
#[tokio::test]
async fn the_ready_fast_path_script_checks_its_arguments_and_writes_nothing_on_error() {
    let env = test_redis("idem-ready-args").await;
    let lua = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../jobqueue-core/src/lua");
    let source = [
        std::fs::read_to_string(lua.join("include/lib.lua")).unwrap(),
        std::fs::read_to_string(lua.join("enqueue_idempotent_ready.lua")).unwrap(),
    ]
    .concat();
    let base = format!("{}:{{default}}", env.prefix());
    let (ready, marker, events) = (
        format!("{base}:ready"),
        format!("{base}:idem:abc"),
        format!("{base}:events"),
    );
    let id = uuid::Uuid::now_v7();
    let record = format!("{{\"id\":\"{id}\",\"type\":\"noop\"}}\n{{\"n\":1}}");
    let digest = "568e4763fcf16e9c0644dc5be72f512c59aa412d";
    let mut conn = redis::Client::open(env.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let script = redis::Script::new(&source);
    let call = |record: &str, window: &str, digest: &str| {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&ready)
            .key(&marker)
            .arg(&events)
            .arg(record.to_owned())
            .arg(window.to_owned())
            .arg(digest.to_owned());
        invocation
    };
    for (record, window, digest, says) in [
        ("not a record", "1000", digest, "not a job record"),
        (record.as_str(), "0", digest, "whole ms"),
        (record.as_str(), "1000", "XYZ", "40 lowercase hex"),
        (
            record.as_str(),
            "1000",
            &digest.to_uppercase(),
            "40 lowercase hex",
        ),
    ] {
        let refused = call(record, window, digest)
            .invoke_async::<Vec<String>>(&mut conn)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains(says), "{refused}");
    }
    let written: u64 = redis::cmd("EXISTS")
        .arg(&ready)
        .arg(&marker)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(written, 0, "nothing written on bad arguments");

    let first: Vec<String> = call(&record, "60000", digest)
        .invoke_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(first, vec!["enqueued".to_owned(), id.to_string()]);
    let again: Vec<String> = call(&record, "60000", digest)
        .invoke_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(again, vec!["exists".to_owned(), id.to_string()]);
    let other = record.replace("\"n\":1", "\"n\":2");
    let conflict: Vec<String> = call(&other, "60000", &"0".repeat(40))
        .invoke_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(conflict, vec!["conflict".to_owned(), id.to_string()]);
    let queued: Vec<String> = conn.lrange(&ready, 0, -1).await.unwrap();
    assert_eq!(queued, vec![record]);
    let held: String = conn.get(&marker).await.unwrap();
    assert_eq!(held, format!("{id} {digest}"));
}
