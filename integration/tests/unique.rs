//! Unique jobs: one job per uniqueness key across concurrent producers;
//! reject, replace and debounce; the lock is released when the job
//! succeeds or dies, and never outlives its TTL.

use std::time::Duration;

use jobqueue_core::store::{BuryEntry, CompletionBatch, DeadLimits};
use jobqueue_core::{JobSet, UniqueMode, UniqueOutcome};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{TestJobTraces, WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

/// Every uniqueness lock key of the test's prefix.
async fn lock_keys(env: &TestRedis) -> Vec<String> {
    env.keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.contains(":unique:"))
        .collect()
}

async fn ready_len(env: &TestRedis) -> usize {
    env.client()
        .admin()
        .list_ready("default", 0, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_producers_enqueue_one_job_per_key() {
    let env = test_redis("unique-race").await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(
            jobqueue_core::Client::with_config(env.client_config())
                .await
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for n in 0..80 {
        let client = clients[n % clients.len()].clone();
        let mut job = env.test_job();
        job.tag = (n % 2) as u64; // two distinct payloads: two keys
        tasks.push(tokio::spawn(async move {
            client
                .job(job)
                .unique_for(Duration::from_secs(60))
                .enqueue_unique()
                .await
                .unwrap()
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let enqueued: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, UniqueOutcome::Enqueued { .. }))
        .collect();
    assert_eq!(enqueued.len(), 2, "one per payload");
    let mut ids: Vec<_> = outcomes.iter().map(UniqueOutcome::id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "every duplicate was told the holder's id");
    assert_eq!(ready_len(&env).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_is_released_when_the_job_succeeds_or_dies() {
    let env = test_redis("unique-release").await;
    let ttl = Duration::from_secs(60);
    let ok = env.test_job();
    let mut doomed = env.test_job();
    doomed.permanent = true;
    let mut flaky = env.test_job();
    flaky.fail_times = 2;
    flaky.tag = 9;
    let first = env
        .client()
        .job(ok.clone())
        .unique_for(ttl)
        .enqueue()
        .await
        .unwrap();
    env.client()
        .job(doomed.clone())
        .unique_for(ttl)
        .enqueue()
        .await
        .unwrap();
    env.client()
        .job(flaky.clone())
        .unique_for(ttl)
        .enqueue()
        .await
        .unwrap();
    // While they wait, duplicates are rejected with the holder's id.
    let again = env
        .client()
        .job(ok.clone())
        .unique_for(ttl)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(again, UniqueOutcome::Duplicate { existing: first });
    assert_eq!(lock_keys(&env).await.len(), 3);

    // Processes run them: the ok job and the flaky one (after two retries,
    // holding its lock meanwhile) succeed, the doomed one dies.
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers: Vec<_> = (0..2)
        .map(|_| WorkerProcess::start(WORKER, &spec))
        .collect();
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(15), || async {
            env.done().await.len() == 2
                && admin
                    .list("default", JobSet::Dead, 0, 10)
                    .await
                    .unwrap()
                    .len()
                    == 1
                && lock_keys(&env).await.is_empty()
        })
        .await,
        "locks left: {:?}",
        lock_keys(&env).await
    );
    // The key is free again.
    let later = env
        .client()
        .job(ok)
        .unique_for(ttl)
        .enqueue_unique()
        .await
        .unwrap();
    assert!(matches!(later, UniqueOutcome::Enqueued { id } if id != first));
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(15)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_never_outlives_its_ttl() {
    let env = test_redis("unique-ttl").await;
    // Nobody runs the job: only the TTL can free the key.
    let job = || env.test_job();
    let first = env
        .client()
        .job(job())
        .delay(Duration::from_secs(3600))
        .unique_for(Duration::from_millis(500))
        .enqueue()
        .await
        .unwrap();
    let mut conn = env.connection().await.unwrap();
    let locks = lock_keys(&env).await;
    assert_eq!(locks.len(), 1);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&locks[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 500, "PTTL {ttl}");
    assert!(
        eventually(Duration::from_secs(5), || async {
            lock_keys(&env).await.is_empty()
        })
        .await
    );
    let second = env
        .client()
        .job(job())
        .unique_for(Duration::from_millis(500))
        .enqueue()
        .await
        .unwrap();
    assert_ne!(first, second);
    // A zero TTL would be a lock that is never taken: rejected.
    assert!(
        env.client()
            .job(job())
            .unique_for(Duration::ZERO)
            .enqueue()
            .await
            .is_err()
    );
    assert!(
        env.client()
            .job(job())
            .unique_key("k")
            .enqueue()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_swaps_a_waiting_duplicate_for_the_new_job() {
    let env = test_redis("unique-replace").await;
    let admin = env.client().admin();
    let client = env.client();
    let send = |tag: u64| {
        let mut job = env.test_job();
        job.tag = tag;
        client
            .job(job)
            .delay(Duration::from_secs(3600))
            .unique_for(Duration::from_secs(60))
            .unique_key("account:7")
            .on_duplicate(UniqueMode::Replace)
            .enqueue_unique()
    };
    let first = send(1).await.unwrap();
    let UniqueOutcome::Enqueued { id: first_id } = first else {
        panic!("{first:?}")
    };
    let second = send(2).await.unwrap();
    let UniqueOutcome::Replaced {
        id: second_id,
        replaced,
    } = second
    else {
        panic!("{second:?}")
    };
    assert_eq!(replaced, Some(first_id));
    let scheduled = admin
        .list("default", JobSet::Scheduled, 0, 10)
        .await
        .unwrap();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].id, second_id);
    assert!(admin.job("default", first_id).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debounce_runs_the_job_once_after_the_last_request() {
    let env = test_redis("unique-debounce").await;
    let worker = test_worker(&env).start().await.unwrap();
    let client = env.client();
    let send = || {
        client
            .job(env.test_job())
            .delay(Duration::from_millis(1500))
            .unique_for(Duration::from_secs(60))
            .unique_key("reindex")
            .on_duplicate(UniqueMode::Debounce)
            .enqueue_unique()
    };
    let first = send().await.unwrap();
    let mut last_request = std::time::Instant::now();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        last_request = std::time::Instant::now();
        let again = send().await.unwrap();
        assert_eq!(
            again,
            UniqueOutcome::Debounced {
                existing: first.id()
            }
        );
    }
    // 1.6 s after the first request its own delay is long over, but each
    // request pushed the run back: due 1.5 s after the last one.
    assert!(env.done().await.is_empty(), "ran before it was debounced");
    tokio::time::sleep(Duration::from_millis(800)).await;
    if last_request.elapsed() < Duration::from_millis(1400) {
        assert!(
            env.started().await.is_empty(),
            "ran before the last request's delay"
        );
    }
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = env.done().await;
    assert_eq!(done.len(), 1);
    assert_eq!(done.get(&first.id().to_string()), Some(&1));
    worker.shutdown().await;
    assert!(lock_keys(&env).await.is_empty());
}

/// The value of the uniqueness lock `key`, if any.
async fn lock_holder(env: &TestRedis, key: &str) -> Option<String> {
    let mut conn = env.connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// `ack.lua` releases a lock only when the acknowledgement takes effect and
/// the lock still names the job: one batch holds a job whose lock was
/// handed to a newer holder, a job this worker no longer holds (its lease
/// lapsed and it was reclaimed), a plain job and a unique job that releases
/// normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_releases_only_locks_it_still_holds() {
    let env = test_redis("unique-ack-rules").await;
    let ttl = Duration::from_secs(60);
    let mut ids = Vec::new();
    for tag in 0..3 {
        let mut job = env.test_job();
        job.tag = tag;
        ids.push(
            env.client()
                .job(job)
                .unique_for(ttl)
                .enqueue()
                .await
                .unwrap(),
        );
    }
    let plain = env.client().enqueue(env.test_job()).await.unwrap();
    let locks = lock_keys(&env).await;
    assert_eq!(locks.len(), 3);
    // Which lock belongs to which job.
    let mut lock_of = std::collections::HashMap::new();
    for key in &locks {
        let holder = lock_holder(&env, key).await.unwrap();
        lock_of.insert(holder, key.clone());
    }
    let [handed_over, reclaimed, released] = [ids[0], ids[1], ids[2]].map(|id| {
        let key = lock_of[&id.to_string()].clone();
        (id, key)
    });

    let client = env.client();

    let store = client.store();
    let keys = store.queue_keys("default").unwrap();
    let worker_id = "ack-rules-worker";
    let active = keys.active(worker_id);
    store
        .heartbeat(&keys, worker_id, Duration::from_secs(30))
        .await
        .unwrap();
    let leased = store.fetch(&keys, &active, worker_id, 10).await.unwrap();
    assert_eq!(leased.records.len(), 4);

    // A replace handed the first job's lock to a newer job; the second job
    // was taken from this worker (as the reaper does after a lapsed lease).
    let mut conn = env.connection().await.unwrap();
    let newer = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let _: () = redis::cmd("SET")
        .arg(&handed_over.1)
        .arg(newer)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: i64 = redis::cmd("HDEL")
        .arg(&active)
        .arg(reclaimed.0.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();

    let digest = |key: &str| key.rsplit(':').next().unwrap().to_owned();
    let unique_jobs = [&handed_over, &reclaimed, &released];
    let batch = CompletionBatch {
        acks: unique_jobs
            .iter()
            .map(|(id, _)| id.to_string().into_bytes())
            .chain([plain.to_string().into_bytes()])
            .collect(),
        unique_releases: unique_jobs
            .iter()
            .map(|(id, key)| (digest(key), id.to_string()))
            .collect(),
        ..CompletionBatch::default()
    };
    let report = store
        .complete(&keys, &active, &batch, Default::default())
        .await
        .unwrap();
    assert_eq!(report.acked, 3, "the reclaimed job is not acknowledged");
    assert_eq!(report.released, 1);
    assert_eq!(
        lock_holder(&env, &handed_over.1).await.as_deref(),
        Some(newer),
        "a lock handed to a newer job stays with it"
    );
    assert_eq!(
        lock_holder(&env, &reclaimed.1).await,
        Some(reclaimed.0.to_string()),
        "a job this worker no longer holds keeps its lock"
    );
    assert_eq!(lock_holder(&env, &released.1).await, None);
}

/// Unique jobs enqueued in bulk go in batched script calls (more than one
/// here) and keep every rule: a duplicate within the batch gets the first
/// job's id, one of an earlier enqueue gets the holder's id, delayed ones
/// are scheduled, and jobs on another queue or without uniqueness in
/// between keep their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_unique_jobs_keep_every_rule_across_batched_calls() {
    let env = test_redis("unique-bulk").await;
    let ttl = Duration::from_secs(60);
    let client = env.client();
    let unique_job = |tag: u64| {
        let mut job = env.test_job();
        job.tag = tag;
        client.job(job).unique_for(ttl)
    };
    let earlier = unique_job(7).enqueue().await.unwrap();

    // 450 distinct keys (three calls), then a repeat of key 3 and of the
    // earlier key, a delayed one, a plain job and one on another queue.
    let mut prepared: Vec<_> = (1000..1450)
        .map(|tag| unique_job(tag).prepare().unwrap())
        .collect();
    prepared.push(unique_job(1003).prepare().unwrap());
    prepared.push(unique_job(7).prepare().unwrap());
    prepared.push(
        unique_job(2000)
            .delay(Duration::from_secs(600))
            .prepare()
            .unwrap(),
    );
    prepared.push(env.client().job(env.test_job()).prepare().unwrap());
    prepared.push(unique_job(3000).queue("other").prepare().unwrap());
    let own_ids: Vec<_> = prepared.iter().map(|job| job.id()).collect();
    let ids = env.client().enqueue_prepared(prepared).await.unwrap();

    assert_eq!(ids.len(), 455);
    assert_eq!(ids[..450], own_ids[..450], "distinct keys each enqueued");
    assert_eq!(
        ids[450], ids[3],
        "a duplicate in the batch gets the holder's id"
    );
    assert_eq!(
        ids[451], earlier,
        "a duplicate of an earlier job gets its id"
    );
    assert_eq!(ids[452..], own_ids[452..]);
    let admin = env.client().admin();
    let default = admin.queue("default").await.unwrap();
    assert_eq!(default.ready, 1 + 450 + 1, "earlier + distinct + plain");
    assert_eq!(default.scheduled, 1);
    assert_eq!(admin.queue("other").await.unwrap().ready, 1);
    // Order kept: the plain job follows the unique ones.
    let last = admin.list_ready("default", 451, 1).await.unwrap();
    assert_eq!(last[0].id, own_ids[453]);
    assert_eq!(lock_keys(&env).await.len(), 1 + 450 + 1 + 1);

    // Values the lock script cannot hold exactly are refused before
    // anything is sent (a batch never fails halfway in Redis).
    let too_long = unique_job(4000).unique_for(Duration::MAX).prepare();
    let too_late = unique_job(4001).delay(Duration::MAX).prepare();
    for refused in [too_long, too_late] {
        let err = refused.expect_err("refused at enqueue");
        assert_eq!(
            err.kind(),
            jobqueue_core::ErrorKind::InvalidArgument,
            "{err}"
        );
    }
}

/// Unique jobs enqueued (the one at `parent_tag` with dependents) and
/// leased by a worker driven by hand through the store API.
struct LeasedUnique {
    ids: Vec<uuid::Uuid>,
    keys: jobqueue_core::store::keys::QueueKeys,
    active: String,
    records: Vec<Vec<u8>>,
}

impl LeasedUnique {
    async fn new(env: &TestRedis, count: u64, parent_tag: u64, worker_id: &str) -> Self {
        let client = env.client();
        let mut ids = Vec::new();
        for tag in 0..count {
            let mut job = env.test_job();
            job.tag = tag;
            let builder = client.job(job).unique_for(Duration::from_secs(60));
            let builder = if tag == parent_tag {
                builder.with_dependents()
            } else {
                builder
            };
            ids.push(builder.enqueue().await.unwrap());
        }
        let store = client.store();
        let keys = store.queue_keys("default").unwrap();
        let active = keys.active(worker_id);
        store
            .heartbeat(&keys, worker_id, Duration::from_secs(30))
            .await
            .unwrap();
        let records = store
            .fetch(&keys, &active, worker_id, 10)
            .await
            .unwrap()
            .records;
        assert_eq!(records.len(), ids.len());
        Self {
            ids,
            keys,
            active,
            records,
        }
    }

    /// The leased record of job `id`.
    fn record(&self, id: uuid::Uuid) -> Vec<u8> {
        let prefix = format!("{{\"id\":\"{id}\"");
        self.records
            .iter()
            .find(|r| r.starts_with(prefix.as_bytes()))
            .unwrap()
            .clone()
    }
}

/// A worker whose lease lapsed (its jobs were reclaimed and wait to run
/// again) frees no lock when it records those jobs' ends late: not for a
/// job it buries, not in a keyed batch's acknowledgement, not for a parent
/// that succeeded. The job it still holds releases its lock as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_lost_its_jobs_frees_none_of_their_locks() {
    let env = test_redis("unique-lost-lease").await;
    let leased = LeasedUnique::new(&env, 4, 2, "lost-lease-worker").await;
    let ids = &leased.ids;
    let [buried, keyed_acked, parent, held] = [ids[0], ids[1], ids[2], ids[3]];
    let mut lock_of = std::collections::HashMap::new();
    for key in lock_keys(&env).await {
        lock_of.insert(lock_holder(&env, &key).await.unwrap(), key);
    }
    let lock = |id: uuid::Uuid| lock_of[&id.to_string()].clone();
    let digest = |id: uuid::Uuid| lock(id).rsplit(':').next().unwrap().to_owned();
    let client = env.client();
    let (store, keys, active) = (client.store(), &leased.keys, &leased.active);
    let record_of = |id: uuid::Uuid| leased.record(id);
    // Three jobs are reclaimed (as the reaper does after a lapsed lease):
    // back in the ready list, no longer in this worker's active hash.
    let mut conn = env.connection().await.unwrap();
    for id in [buried, keyed_acked, parent] {
        let _: () = redis::pipe()
            .hdel(active, id.to_string())
            .rpush(keys.ready(), record_of(id))
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    let bury = CompletionBatch {
        buries: vec![BuryEntry {
            leased_id: buried.to_string().into_bytes(),
            dead_id: buried.to_string(),
            record: record_of(buried),
        }],
        unique_releases: vec![(digest(buried), buried.to_string())],
        ..CompletionBatch::default()
    };
    let report = store
        .complete(keys, active, &bury, Default::default())
        .await
        .unwrap();
    assert_eq!((report.buried, report.released), (0, 0));

    let keyed_batch = CompletionBatch {
        acks: vec![
            keyed_acked.to_string().into_bytes(),
            held.to_string().into_bytes(),
        ],
        unique_releases: vec![
            (digest(keyed_acked), keyed_acked.to_string()),
            (digest(held), held.to_string()),
        ],
        keyed: true,
        ..CompletionBatch::default()
    };
    let report = store
        .complete(keys, active, &keyed_batch, Default::default())
        .await
        .unwrap();
    assert_eq!(report.acked, 1, "only the held job is acknowledged");

    let parent_ack = CompletionBatch {
        parent_acks: vec![parent.to_string().into_bytes()],
        unique_releases: vec![(digest(parent), parent.to_string())],
        ..CompletionBatch::default()
    };
    let report = store
        .complete(keys, active, &parent_ack, Default::default())
        .await
        .unwrap();
    assert_eq!((report.acked, report.released), (0, 0));

    for id in [buried, keyed_acked, parent] {
        assert_eq!(
            lock_holder(&env, &lock(id)).await,
            Some(id.to_string()),
            "the lock of a job that runs again stays"
        );
    }
    assert_eq!(lock_holder(&env, &lock(held)).await, None);
}

/// Locks are freed by the script that records a job's end, whatever else
/// that script does: two unique jobs buried in one call with a dead-set cap
/// of one (so the call trims one of them right away), and a unique parent
/// whose dependency record has expired, all free their locks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_go_with_the_end_even_when_its_record_does_not_stay() {
    let env = test_redis("unique-end-record").await;
    let leased = LeasedUnique::new(&env, 3, 2, "end-record-worker").await;
    assert_eq!(lock_keys(&env).await.len(), 3);
    let ids = &leased.ids;
    let client = env.client();
    let (store, keys, active) = (client.store(), &leased.keys, &leased.active);
    let record_of = |id: uuid::Uuid| leased.record(id);
    let bury = CompletionBatch {
        buries: ids[..2]
            .iter()
            .map(|id| BuryEntry {
                leased_id: id.to_string().into_bytes(),
                dead_id: id.to_string(),
                record: record_of(*id),
            })
            .collect(),
        ..CompletionBatch::default()
    };
    let one_kept = DeadLimits {
        max_jobs: 1,
        ..DeadLimits::default()
    };
    let report = store.complete(keys, active, &bury, one_kept).await.unwrap();
    assert_eq!((report.buried, report.trimmed), (2, 1));
    // The parent's dependency record is gone (it expires 30 days after
    // the job's run time).
    let _: () = redis::cmd("DEL")
        .arg(keys.parent(&ids[2].to_string()))
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    let parent_ack = CompletionBatch {
        parent_acks: vec![ids[2].to_string().into_bytes()],
        ..CompletionBatch::default()
    };
    let report = store
        .complete(keys, active, &parent_ack, Default::default())
        .await
        .unwrap();
    assert_eq!(report.acked, 1);
    assert_eq!(lock_keys(&env).await, Vec::<String>::new());
}
