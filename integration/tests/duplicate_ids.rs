//! A record never silently replaces another. Job ids are unique within a
//! queue, but a producer in another language pushing records with `RPUSH`
//! (docs/protocol.md) can send two records under one id. Wherever a script
//! stores a record by id — the worker's active hash at fetch, the jobs
//! hash behind the dead, retry and scheduled sets — a record arriving under
//! an id another record already holds is dead-lettered under a new id with
//! a "duplicate job id" error, and both are kept.

use std::collections::HashMap;
use std::time::Duration;

use jobqueue_core::admin::{BrowseState, JobFilter};
use jobqueue_core::{Job, JobInfo};
use jobqueue_integration::jobs::{FailingJob, TestJob};
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use jobqueue_worker::Prefetch;
use uuid::Uuid;

/// Pushes a raw record (envelope, newline, payload) as a foreign producer
/// would: one `RPUSH` on the ready list.
async fn push_raw(env: &TestRedis, id: Uuid, job_type: &str, payload: &serde_json::Value) {
    let keys = env.client().store().queue_keys("default").unwrap();
    let record = format!("{{\"id\":\"{id}\",\"type\":\"{job_type}\"}}\n{payload}");
    let _: i64 = redis::cmd("RPUSH")
        .arg(keys.ready())
        .arg(record)
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
}

fn failing(note: &str) -> serde_json::Value {
    serde_json::to_value(FailingJob {
        message: "fails on purpose".to_owned(),
        note: note.to_owned(),
    })
    .unwrap()
}

/// Every dead job of the default queue.
async fn dead_jobs(env: &TestRedis) -> Vec<JobInfo> {
    env.client()
        .admin()
        .browse("default", BrowseState::Dead, &JobFilter::all(), 0, 500)
        .await
        .unwrap()
        .jobs
}

/// The dead set's size, and every dead entry has its record.
async fn dead_entries(env: &TestRedis) -> (u64, u64) {
    let keys = env.client().store().queue_keys("default").unwrap();
    let mut conn = env.connection().await.unwrap();
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(keys.dead())
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    let records: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
        .arg(keys.jobs())
        .arg(&members)
        .query_async(&mut conn)
        .await
        .unwrap();
    (
        members.len() as u64,
        records.iter().filter(|r| r.is_some()).count() as u64,
    )
}

/// Checks that `dead` holds every (id, note) pair pushed, the first of
/// each pair under its own id and the second under a new id with an error
/// naming the duplicate.
fn assert_both_twins_kept(dead: &[JobInfo], ids: &[Uuid], notes: [&str; 2]) {
    let by_note: HashMap<String, &JobInfo> = dead
        .iter()
        .map(|job| {
            let payload: FailingJob = serde_json::from_str(&job.payload).unwrap();
            (payload.note, job)
        })
        .collect();
    for (n, id) in ids.iter().enumerate() {
        let first = by_note
            .get(&format!("{}-{n}", notes[0]))
            .unwrap_or_else(|| panic!("the first record of {id} is dead"));
        let second = by_note
            .get(&format!("{}-{n}", notes[1]))
            .unwrap_or_else(|| panic!("the second record of {id} is dead"));
        let (kept, renamed) = if first.id == *id {
            (first, second)
        } else {
            (second, first)
        };
        assert_eq!(kept.id, *id);
        assert_ne!(renamed.id, *id, "the newcomer has a new id");
        let error = renamed
            .errors
            .last()
            .expect("the newcomer says why it is dead");
        assert!(
            error.message.contains("duplicate job id") && error.message.contains(&id.to_string()),
            "{}",
            error.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_failing_records_sharing_twenty_ids_leave_forty_dead_jobs() {
    let env = test_redis("dup-dead").await;
    let ids: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    // Twins far apart, fetched one at a time: they meet in the dead set.
    for (note, _) in [("a", 0), ("b", 1)] {
        for (n, id) in ids.iter().enumerate() {
            push_raw(
                &env,
                *id,
                FailingJob::NAME,
                &failing(&format!("{note}-{n}")),
            )
            .await;
        }
    }
    let worker = test_worker(&env)
        .register::<FailingJob>()
        .concurrency(1)
        .prefetch(Prefetch::Fixed(0))
        .start()
        .await
        .unwrap();
    let admin = env.client().admin();
    let all_dead = eventually(Duration::from_secs(20), || async {
        admin.queue("default").await.unwrap().ready == 0 && dead_entries(&env).await.0 >= 40
    })
    .await;
    worker.shutdown().await;
    assert!(all_dead, "dead entries: {:?}", dead_entries(&env).await);
    assert_eq!(
        dead_entries(&env).await,
        (40, 40),
        "40 dead entries, each with its record"
    );
    assert_both_twins_kept(&dead_jobs(&env).await, &ids, ["a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twins_leased_together_are_both_kept() {
    let env = test_redis("dup-active").await;
    let ids: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    // Twins side by side: one fetch leases both into one active hash.
    for (n, id) in ids.iter().enumerate() {
        for note in ["a", "b"] {
            push_raw(
                &env,
                *id,
                FailingJob::NAME,
                &failing(&format!("{note}-{n}")),
            )
            .await;
        }
    }
    let worker = test_worker(&env)
        .register::<FailingJob>()
        .concurrency(10)
        .start()
        .await
        .unwrap();
    let admin = env.client().admin();
    let all_dead = eventually(Duration::from_secs(20), || async {
        let info = admin.queue("default").await.unwrap();
        info.ready == 0 && info.active == 0 && dead_entries(&env).await.0 >= 40
    })
    .await;
    worker.shutdown().await;
    assert!(all_dead, "dead entries: {:?}", dead_entries(&env).await);
    assert_eq!(dead_entries(&env).await, (40, 40));
    assert_both_twins_kept(&dead_jobs(&env).await, &ids, ["a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twin_leased_while_the_first_runs_is_kept_and_the_first_finishes() {
    let env = test_redis("dup-running").await;
    let id = Uuid::now_v7();
    let mut slow = env.test_job();
    slow.sleep_ms = 1500;
    slow.tag = 1;
    let mut quick = env.test_job();
    quick.tag = 2;
    push_raw(
        &env,
        id,
        TestJob::NAME,
        &serde_json::to_value(&slow).unwrap(),
    )
    .await;
    let worker = test_worker(&env).concurrency(2).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.contains_key(&id.to_string())
        })
        .await
    );
    // The first still runs, leased under `id`, when its twin arrives.
    push_raw(
        &env,
        id,
        TestJob::NAME,
        &serde_json::to_value(&quick).unwrap(),
    )
    .await;
    let admin = env.client().admin();
    let settled = eventually(Duration::from_secs(10), || async {
        let info = admin.queue("default").await.unwrap();
        info.ready == 0 && info.active == 0 && env.done().await.contains_key(&id.to_string())
    })
    .await;
    worker.shutdown().await;
    assert!(
        settled,
        "the first twin finished: {:?}",
        admin.queue("default").await
    );
    let dead = dead_jobs(&env).await;
    assert_eq!(dead.len(), 1, "the newcomer is dead-lettered: {dead:?}");
    let twin: TestJob = serde_json::from_str(&dead[0].payload).unwrap();
    assert_eq!(twin.tag, 2, "it is the newcomer");
    assert_ne!(dead[0].id, id);
    assert!(dead[0].errors[0].message.contains("duplicate job id"));
    assert_eq!(env.started().await.get(&id.to_string()), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_never_replaces_a_dead_twin() {
    let env = test_redis("dup-retry").await;
    let id = Uuid::now_v7();
    push_raw(&env, id, FailingJob::NAME, &failing("a-0")).await;
    let worker = test_worker(&env)
        .register::<FailingJob>()
        .concurrency(1)
        .prefetch(Prefetch::Fixed(0))
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
    // Its twin fails with attempts left: it would wait in the retry set,
    // its record in the jobs hash under the dead twin's id.
    let mut flaky = env.test_job();
    flaky.fail_times = 5;
    push_raw(
        &env,
        id,
        TestJob::NAME,
        &serde_json::to_value(&flaky).unwrap(),
    )
    .await;
    let settled = eventually(Duration::from_secs(10), || async {
        env.started().await.contains_key(&id.to_string())
            && admin.queue("default").await.unwrap().active == 0
    })
    .await;
    worker.shutdown().await;
    assert!(settled);
    let kept = admin
        .job("default", id)
        .await
        .unwrap()
        .expect("the dead twin");
    assert_eq!(kept.job_type.as_deref(), Some(FailingJob::NAME), "{kept:?}");
    let (entries, records) = dead_entries(&env).await;
    assert_eq!(
        (entries, records),
        (2, 2),
        "the retrying twin was dead-lettered beside it"
    );
    let renamed = dead_jobs(&env)
        .await
        .into_iter()
        .find(|job| job.id != id)
        .unwrap();
    assert_eq!(renamed.job_type.as_deref(), Some(TestJob::NAME));
    assert!(
        renamed
            .errors
            .last()
            .unwrap()
            .message
            .contains("duplicate job id")
    );
}
