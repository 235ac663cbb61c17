//! Enqueues under producer-given ids (`JobBuilder::id`): a producer that
//! retries an enqueue whose outcome it does not know enqueues the job at
//! most once. The same id with the same job again is a no-op that returns
//! the existing job; with another job it is refused with a clear error —
//! single and bulk, for every destination; jobs under generated ids keep
//! their bare `RPUSH`.

use std::time::Duration;

use jobqueue_core::{Client, ErrorKind, UniqueOutcome};
use jobqueue_integration::jobs::{FailingJob, TestJob};
use jobqueue_integration::locate::locate_jobs;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_redis_on, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use uuid::Uuid;

/// Every place each job of `queue` is found.
async fn places(env: &TestRedis, queue: &str) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<_> = locate_jobs(env, queue).await.into_iter().collect();
    found.sort();
    found
}

/// A traced job told apart from others by `tag`.
fn job(env: &TestRedis, tag: u64) -> TestJob {
    TestJob {
        tag,
        ..env.test_job()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_repeated_with_its_id_stores_the_job_once_wherever_it_goes() {
    let env = test_redis("id-repeat").await;
    let admin = env.client().admin();
    admin
        .set_key_limits(
            "default",
            "account",
            jobqueue_core::KeyLimits {
                max_running: Some(1),
                rate: None,
            },
        )
        .await
        .unwrap();
    let client = env.client();
    let mut ids = Vec::new();
    for (n, place) in ["ready", "priority", "scheduled", "keyed", "dependents"]
        .iter()
        .enumerate()
    {
        let id = Uuid::now_v7();
        ids.push(id);
        let enqueue = || {
            let builder = client.job(job(&env, n as u64)).id(id);
            match *place {
                "priority" => builder.priority(5),
                "scheduled" => builder.delay(Duration::from_millis(600)),
                "keyed" => builder.flow_key("account:7"),
                "dependents" => builder.with_dependents(),
                _ => builder,
            }
        };
        let first = enqueue().enqueue_unique().await.unwrap();
        assert_eq!(first, UniqueOutcome::Enqueued { id }, "{place}");
        for _ in 0..3 {
            let again = enqueue().enqueue_unique().await.unwrap();
            assert_eq!(again, UniqueOutcome::Exists { existing: id }, "{place}");
            assert_eq!(enqueue().enqueue().await.unwrap(), id, "{place}");
        }
    }
    let found = places(&env, "default").await;
    assert_eq!(found.len(), ids.len(), "{found:?}");
    for (id, at) in &found {
        assert_eq!(at.len(), 1, "{id} is in one place: {at:?}");
    }

    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(ids.len(), Duration::from_secs(15)).await);
    worker.shutdown().await;
    let started = env.started().await;
    for id in &ids {
        assert_eq!(started.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    // After it ran (gone from Redis), the id is still recognised.
    let again = env
        .client()
        .job(job(&env, 0))
        .id(ids[0])
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(again, UniqueOutcome::Exists { existing: ids[0] });
    assert_eq!(admin.queue("default").await.unwrap().ready, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_job_under_a_taken_id_is_refused_and_nothing_is_replaced() {
    let env = test_redis("id-taken").await;
    let id = Uuid::now_v7();
    env.client()
        .job(job(&env, 1))
        .id(id)
        .enqueue()
        .await
        .unwrap();
    for other in [
        env.client().job(job(&env, 2)).id(id),
        env.client()
            .job(job(&env, 2))
            .id(id)
            .delay(Duration::from_secs(60)),
        env.client()
            .job(job(&env, 1))
            .id(id)
            .queue("default")
            .priority(3),
    ] {
        // (The last has the same payload but another priority: the same
        // job, so it is no refusal.)
        match other.enqueue_unique().await {
            Ok(outcome) => assert_eq!(outcome, UniqueOutcome::Exists { existing: id }),
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
                assert!(
                    matches!(&err, jobqueue_core::Error::DuplicateId { id: taken, queue, .. }
                        if *taken == id && queue == "default"),
                    "{err:?}"
                );
                assert!(err.to_string().contains(&id.to_string()), "{err}");
            }
        }
    }
    let other_type = env
        .client()
        .job(FailingJob {
            message: "x".into(),
            note: String::new(),
        })
        .queue("default")
        .id(id)
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(other_type.kind(), ErrorKind::Conflict);

    let found = places(&env, "default").await;
    assert_eq!(found, vec![(id.to_string(), vec!["ready".to_owned()])]);
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_enqueue_with_ids_reports_each_jobs_outcome_and_is_safe_to_repeat() {
    let env = test_redis("id-bulk").await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let prepare = |tag: u64, id: Uuid| env.client().job(job(&env, tag)).id(id).prepare().unwrap();
    let plain = env.client().job(job(&env, 9)).prepare().unwrap();
    let batch = vec![
        prepare(1, a),
        prepare(2, b),
        prepare(1, a), // the same job again: exists
        prepare(3, a), // another job under a's id: refused
        plain.clone(),
    ];
    let outcomes = env
        .client()
        .enqueue_prepared_outcomes(batch.clone())
        .await
        .unwrap();
    assert_eq!(
        outcomes[0].as_ref().unwrap(),
        &UniqueOutcome::Enqueued { id: a }
    );
    assert_eq!(
        outcomes[1].as_ref().unwrap(),
        &UniqueOutcome::Enqueued { id: b }
    );
    assert_eq!(
        outcomes[2].as_ref().unwrap(),
        &UniqueOutcome::Exists { existing: a }
    );
    let refused = outcomes[3].as_ref().unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict, "{refused}");
    assert_eq!(
        outcomes[4].as_ref().unwrap(),
        &UniqueOutcome::Enqueued { id: plain.id() }
    );
    // The whole batch again, as a producer retrying it would: the jobs
    // with ids are not enqueued twice (the plain one, without an id, is
    // refused as a repeat of its own generated id only within one call).
    let again = env
        .client()
        .enqueue_prepared_outcomes(batch[..4].to_vec())
        .await
        .unwrap();
    assert_eq!(
        again[0].as_ref().unwrap(),
        &UniqueOutcome::Exists { existing: a }
    );
    assert_eq!(
        again[1].as_ref().unwrap(),
        &UniqueOutcome::Exists { existing: b }
    );
    assert!(again[3].is_err());
    // enqueue_prepared fails with the refusal, after enqueueing the rest.
    let err = env
        .client()
        .enqueue_prepared(batch[..4].to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);

    let found = places(&env, "default").await;
    assert_eq!(
        found.len(),
        3,
        "a, b and the plain job, once each: {found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepared_job_sent_twice_in_one_call_or_scheduled_twice_is_refused() {
    let env = test_redis("id-prepared").await;
    let plain = env.client().job(job(&env, 1)).prepare().unwrap();
    let err = env
        .client()
        .enqueue_prepared([plain.clone(), plain.clone()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(places(&env, "default").await.is_empty(), "nothing was sent");

    // A scheduled job is stored by id: a second send is refused, and the
    // first keeps its record.
    let delayed = env
        .client()
        .job(job(&env, 2))
        .delay(Duration::from_secs(60))
        .prepare()
        .unwrap();
    env.client()
        .enqueue_prepared([delayed.clone()])
        .await
        .unwrap();
    let err = env
        .client()
        .enqueue_prepared([delayed.clone()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, jobqueue_core::Error::DuplicateId { id, queue, .. }
            if *id == delayed.id() && queue == "default"),
        "{err:?}"
    );
    assert_eq!(
        env.client()
            .admin()
            .queue("default")
            .await
            .unwrap()
            .scheduled,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_is_recognised_after_its_window_while_its_job_is_stored() {
    let env = test_redis("id-window").await;
    let client = Client::with_config(
        env.client_config()
            .idempotency_window(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    let id = Uuid::now_v7();
    let doomed = FailingJob {
        message: "dies".into(),
        note: "first".into(),
    };
    client.job(doomed.clone()).id(id).enqueue().await.unwrap();
    let worker = test_worker(&env)
        .register::<FailingJob>()
        .start()
        .await
        .unwrap();
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.unwrap().dead == 1
        })
        .await
    );
    worker.shutdown().await;
    tokio::time::sleep(Duration::from_millis(400)).await; // the marker lapsed
    // The dead job still holds the id: the same job is recognised, another
    // is refused, and the dead record is never replaced.
    let same = client
        .job(doomed.clone())
        .id(id)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(same, UniqueOutcome::Exists { existing: id });
    let other = FailingJob {
        note: "second".into(),
        ..doomed
    };
    let err = client
        .job(other.clone())
        .id(id)
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = client
        .job(other)
        .id(id)
        .delay(Duration::from_secs(30))
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let dead = admin.job("default", id).await.unwrap().unwrap();
    assert!(dead.payload.contains("first"), "{}", dead.payload);
    assert_eq!(admin.queue("default").await.unwrap().dead, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_id_must_be_a_uuid_v7_and_cannot_make_a_job_unique_too() {
    let env = test_redis("id-invalid").await;
    let err = env
        .client()
        .job(job(&env, 1))
        .id(Uuid::new_v4())
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("UUID v7"), "{err}");
    let err = env
        .client()
        .job(job(&env, 1))
        .id(Uuid::now_v7())
        .unique_for(Duration::from_secs(60))
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("unique"), "{err}");
    assert!(places(&env, "default").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chained_job_enqueued_again_with_its_id_waits_and_runs_once() {
    let env = test_redis("id-chain").await;
    let parent = env
        .client()
        .job(job(&env, 1))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let child = Uuid::now_v7();
    let client = env.client();
    let enqueue = || client.job(job(&env, 2)).id(child).after(parent);
    assert_eq!(
        enqueue().enqueue_unique().await.unwrap(),
        UniqueOutcome::Enqueued { id: child }
    );
    assert_eq!(
        enqueue().enqueue_unique().await.unwrap(),
        UniqueOutcome::Exists { existing: child }
    );
    let err = env
        .client()
        .job(job(&env, 3))
        .id(child)
        .after(parent)
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        env.client().admin().queue("default").await.unwrap().waiting,
        1
    );
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
    assert_eq!(env.started().await.get(&child.to_string()), Some(&1));
}

/// The case the ids exist for: Redis stops answering after the job was
/// sent, the enqueue fails after its response timeout, yet the job was
/// stored. The error says the outcome is unknown; the retry with the same
/// id finds the job and enqueues nothing; it runs once. A refused
/// connection, by contrast, is reported as certainly not applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_whose_reply_was_lost_is_retried_with_its_id_and_runs_once() {
    let mut server = RedisServer::start();
    let mut env = test_redis_on(&server.url(), "id-lost-reply").await;
    env.reconnect_with(
        env.client_config()
            .response_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    // The client knows the queue (its first enqueue registers it).
    let warm_up = env.client().enqueue(job(&env, 0)).await.unwrap();
    let id = Uuid::now_v7();
    server.freeze();
    let err = env
        .client()
        .job(job(&env, 1))
        .id(id)
        .enqueue()
        .await
        .unwrap_err();
    server.thaw();
    assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    assert!(err.outcome_unknown());
    // The request was delivered before the freeze ended: the job is there.
    assert!(
        eventually(Duration::from_secs(5), || async {
            locate_jobs(&env, "default")
                .await
                .contains_key(&id.to_string())
        })
        .await,
        "the enqueue was applied although it reported an error"
    );
    let retried = env
        .client()
        .job(job(&env, 1))
        .id(id)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(retried, UniqueOutcome::Exists { existing: id });
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
    let started = env.started().await;
    assert_eq!(started.get(&id.to_string()), Some(&1));
    assert_eq!(started.get(&warm_up.to_string()), Some(&1));
    assert_eq!(locate_jobs(&env, "default").await.len(), 0);

    server.kill();
    let mut refused = None;
    for _ in 0..10 {
        let err = env
            .client()
            .job(job(&env, 2))
            .id(Uuid::now_v7())
            .enqueue()
            .await
            .unwrap_err();
        if err.kind() == ErrorKind::Unavailable {
            refused = Some(err);
            break;
        }
        assert_eq!(err.kind(), ErrorKind::OutcomeUnknown, "{err}");
    }
    assert!(
        refused.is_some(),
        "a refused connection is reported as certainly not applied"
    );
}

/// docs/protocol.md's marker for producers in other languages is the one
/// the Rust client writes: SHA-1 hex of `<type>\n<payload>`. A job a
/// foreign producer enqueued through it is recognised by a Rust retry, and
/// the other way round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_producers_idempotency_marker_is_the_rust_clients() {
    const FOREIGN_ENQUEUE: &str = r#"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          if redis.call('RPUSH', KEYS[2], ARGV[3]) == 1 then redis.call('PUBLISH', ARGV[4], 'r') end
          return 'enqueued'
        end
        if redis.call('GET', KEYS[1]) == ARGV[1] then return 'exists' end
        return 'taken'"#;
    let env = test_redis("id-foreign").await;
    let keys = env.client().store().queue_keys("default").unwrap();
    let mut conn = env.connection().await.unwrap();
    let payload = serde_json::to_string(&job(&env, 7)).unwrap();
    let digest: String = redis::Script::new("return redis.sha1hex(ARGV[1])")
        .arg(format!("test_job\n{payload}"))
        .invoke_async(&mut conn)
        .await
        .unwrap();
    let script = redis::Script::new(FOREIGN_ENQUEUE);
    let foreign = |id: Uuid| {
        let record = format!("{{\"id\":\"{id}\",\"type\":\"test_job\"}}\n{payload}");
        let mut call = script.prepare_invoke();
        call.key(keys.id_marker(&id.to_string()))
            .key(keys.ready())
            .arg(&digest)
            .arg(60_000)
            .arg(record)
            .arg(keys.events());
        call
    };
    // Foreign first, then the Rust client retries the same job.
    let first = Uuid::now_v7();
    let status: String = foreign(first).invoke_async(&mut conn).await.unwrap();
    assert_eq!(status, "enqueued");
    let outcome = env
        .client()
        .job(job(&env, 7))
        .id(first)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(outcome, UniqueOutcome::Exists { existing: first });
    // Rust first, then the foreign producer retries it.
    let second = Uuid::now_v7();
    env.client()
        .job(job(&env, 7))
        .id(second)
        .enqueue()
        .await
        .unwrap();
    let status: String = foreign(second).invoke_async(&mut conn).await.unwrap();
    assert_eq!(status, "exists");
    assert_eq!(locate_jobs(&env, "default").await.len(), 2);
}
