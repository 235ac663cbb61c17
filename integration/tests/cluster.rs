//! The same client, worker and operator API on a real 3-primary Redis
//! Cluster (with one replica each), started on private ports per test:
//! queues spread over every primary, retries, dead jobs, delayed jobs,
//! pause/resume and operator repairs work unchanged, and a primary failover
//! mid-run loses no acknowledged job.
//!
//! Job traces are written to the shared test Redis (under the test's
//! prefix), so they survive whatever happens to the cluster.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jobqueue_core::{ClientConfig, JobSet};
use jobqueue_integration::{RedisCluster, TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use uuid::Uuid;

/// A test's slice of the shared test Redis (where job traces go) whose
/// client talks to `cluster`.
async fn cluster_env(cluster: &RedisCluster, test: &str) -> TestRedis {
    cluster_env_with(cluster, test, |config| config).await
}

async fn cluster_env_with(
    cluster: &RedisCluster,
    test: &str,
    configure: impl FnOnce(ClientConfig) -> ClientConfig,
) -> TestRedis {
    let mut env = test_redis(test).await;
    env.reconnect_with(configure(ClientConfig::new(cluster.url())))
        .await
        .expect("connect to the test cluster");
    env
}

/// `per_primary` queue names for each primary, so work is spread over all.
fn spread_queues(cluster: &RedisCluster, prefix: &str, per_primary: usize) -> Vec<String> {
    let primaries = cluster.topology().iter().filter(|n| n.primary).count();
    let mut by_primary: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for n in 0.. {
        let queue = format!("q{n}");
        let owner = cluster
            .primary_for(&format!("{prefix}:{{{queue}}}:ready"))
            .port;
        let names = by_primary.entry(owner).or_default();
        if names.len() < per_primary {
            names.push(queue);
        }
        if by_primary.len() == primaries && by_primary.values().all(|q| q.len() == per_primary) {
            break;
        }
    }
    by_primary.into_values().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_flows_run_unchanged_on_a_cluster() {
    let cluster = RedisCluster::start(3, 1);
    let env = cluster_env(&cluster, "cluster-flows").await;
    let queues = spread_queues(&cluster, env.prefix(), 3);
    let admin = env.client().admin();

    let mut plain = Vec::new();
    for queue in &queues {
        for _ in 0..10 {
            plain.push(
                env.client()
                    .job(env.test_job())
                    .queue(queue)
                    .enqueue()
                    .await
                    .unwrap(),
            );
        }
        let flaky = jobqueue_integration::jobs::TestJob {
            fail_times: 1,
            ..env.test_job()
        };
        plain.push(
            env.client()
                .job(flaky)
                .queue(queue)
                .enqueue()
                .await
                .unwrap(),
        );
    }
    let hopeless = jobqueue_integration::jobs::TestJob {
        permanent: true,
        ..env.test_job()
    };
    let dead_id = env
        .client()
        .job(hopeless)
        .queue(&queues[0])
        .enqueue()
        .await
        .unwrap();
    let delayed_id = env
        .client()
        .job(env.test_job())
        .queue(&queues[4])
        .delay(Duration::from_millis(800))
        .enqueue()
        .await
        .unwrap();
    assert_eq!(admin.queue(&queues[4]).await.unwrap().scheduled, 1);

    // Pause one queue: its jobs wait while the others run.
    admin.pause(&queues[8]).await.unwrap();
    let worker = test_worker(&env)
        .queues(queues.clone())
        .start()
        .await
        .unwrap();
    let expected = plain.len() + 1 - 11;
    assert!(
        env.wait_done(expected, Duration::from_secs(30)).await,
        "all jobs of running queues finish"
    );
    assert_eq!(
        admin.queue(&queues[8]).await.unwrap().ready,
        11,
        "paused queue kept its jobs"
    );
    admin.resume(&queues[8]).await.unwrap();
    assert!(
        env.wait_done(plain.len() + 1, Duration::from_secs(30))
            .await
    );

    let done = env.done().await;
    for id in plain.iter().chain([&delayed_id]) {
        assert_eq!(
            done.get(&id.to_string()),
            Some(&1),
            "job {id} ran to completion once"
        );
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue(&queues[0]).await.unwrap().dead == 1
        })
        .await,
        "the hopeless job is dead"
    );

    // Operator repair on one slot while the worker runs: retry the dead job.
    assert_eq!(
        admin
            .retry(&queues[0], JobSet::Dead, &[dead_id])
            .await
            .unwrap(),
        1
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.started().await.get(&dead_id.to_string()) == Some(&2)
                && admin.queue(&queues[0]).await.unwrap().dead == 1
        })
        .await,
        "the retried job ran again and died again"
    );

    // Cross-queue views are assembled from per-slot reads.
    let listed: HashSet<String> = admin.queue_names().await.unwrap().into_iter().collect();
    assert!(queues.iter().all(|q| listed.contains(q)), "{listed:?}");
    let workers = admin.workers().await.unwrap();
    assert_eq!(workers.len(), 1);
    worker.shutdown().await;

    let infos = admin.queues().await.unwrap();
    let processed: u64 = infos.iter().map(|q| q.processed).sum();
    assert_eq!(processed, (plain.len() + 1) as u64);
    assert!(
        infos
            .iter()
            .all(|q| q.ready == 0 && q.active == 0 && q.retry == 0)
    );
    let totals = admin.totals().await.unwrap();
    assert_eq!(totals.processed, processed);
    assert_eq!(
        totals.failed,
        queues.len() as u64 + 2,
        "one planned failure per queue plus two deaths"
    );
}

/// What the producer of a failover run learned about its jobs.
#[derive(Default)]
struct Produced {
    /// Enqueues that succeeded (possibly after retries with the same id).
    acknowledged: Vec<Uuid>,
    /// Jobs whose enqueue kept failing with an unknown outcome until the
    /// producer gave up: each may or may not exist.
    unknown: Vec<Uuid>,
    /// Jobs the producer gave up on whose every attempt was certainly
    /// not applied.
    not_enqueued: Vec<Uuid>,
}

/// Enqueues jobs round-robin over `queues` until `stop`, as a careful
/// producer does: each job gets its id first, and an enqueue that fails is
/// retried with the same id, so a retry of an attempt that was in fact
/// applied (its reply lost in the failover) enqueues nothing. After a few
/// attempts it gives up on the job and moves on. (A killed primary's
/// promoted replica has no replica of its own: there every enqueue that
/// waits for one fails, though the job is stored.)
async fn produce(env: Arc<TestRedis>, queues: Vec<String>, stop: Arc<AtomicBool>) -> Produced {
    const ATTEMPTS: u32 = 4;
    let mut produced = Produced::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let queue = &queues[n % queues.len()];
        n += 1;
        let id = Uuid::now_v7();
        let job = env.test_job();
        let mut maybe_applied = false;
        let mut acknowledged = false;
        for attempt in 1..=ATTEMPTS {
            match env
                .client()
                .job(job.clone())
                .queue(queue)
                .id(id)
                .enqueue()
                .await
            {
                Ok(enqueued) => {
                    assert_eq!(enqueued, id);
                    acknowledged = true;
                    break;
                }
                Err(err) => {
                    maybe_applied |= err.outcome_unknown();
                    tracing::info!(%err, attempt, "enqueue failed during the failover; retrying with the same id");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        match (acknowledged, maybe_applied) {
            (true, _) => produced.acknowledged.push(id),
            (false, true) => produced.unknown.push(id),
            (false, false) => produced.not_enqueued.push(id),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    produced
}

/// Runs a producer and a worker across a failover of the primary of
/// `queues[0]`, then checks every acknowledged job ran, and that every job
/// whose enqueue reported an unknown outcome either never existed or ran
/// before the worker stopped — nothing is left behind.
///
/// A killed primary can take writes it had not yet replicated with it, so
/// that run's producer waits for one replica (`WAIT`) before counting a job
/// as acknowledged — the guarantee docs/redis-topologies.md documents.
async fn survive(cluster: &mut RedisCluster, test: &str, kill: bool) {
    let env = Arc::new(
        cluster_env_with(cluster, test, |config| {
            if kill {
                config.wait_for_replicas(1, Duration::from_millis(300))
            } else {
                config
            }
        })
        .await,
    );
    let queues = spread_queues(cluster, env.prefix(), 2);
    let worker = test_worker(&env)
        .queues(queues.clone())
        .start()
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = tokio::spawn(produce(env.clone(), queues.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(700)).await;

    let key = format!("{}:{{{}}}:ready", env.prefix(), queues[0]);
    let old_primary = cluster.primary_for(&key);
    let new_primary = tokio::task::block_in_place(|| {
        if kill {
            cluster.kill_primary(&key)
        } else {
            cluster.failover(&key)
        }
    });
    assert_ne!(old_primary.port, new_primary.port);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let produced = producer.await.unwrap();
    let acknowledged = &produced.acknowledged;
    assert!(
        acknowledged.len() > 30,
        "the producer kept going: {}",
        acknowledged.len()
    );

    let done_all = eventually(Duration::from_secs(30), || async {
        let done = env.done().await;
        acknowledged
            .iter()
            .all(|id| done.contains_key(&id.to_string()))
    })
    .await;
    let done = env.done().await;
    let missing: Vec<&Uuid> = acknowledged
        .iter()
        .filter(|id| !done.contains_key(&id.to_string()))
        .collect();
    assert!(
        done_all,
        "{} acknowledged jobs never ran: {missing:?}",
        missing.len()
    );
    // A job whose enqueue reported an unknown outcome may exist: if it
    // does, the worker must find it (its wake-up may have been lost in the
    // failover) and run it before it stops. Wait until nothing is left.
    let admin = env.client().admin();
    let drained = eventually(Duration::from_secs(30), || async {
        let mut left = 0;
        for queue in &queues {
            let Ok(info) = admin.queue(queue).await else {
                return false;
            };
            left += info.ready + info.active + info.scheduled + info.retry;
        }
        left == 0
    })
    .await;
    worker.shutdown().await;
    for queue in &queues {
        let info = admin.queue(queue).await.unwrap();
        assert_eq!(
            (info.ready, info.active, info.dead),
            (0, 0, 0),
            "{queue}: {info:?} (drained before shutdown: {drained})"
        );
    }
    let done = env.done().await;
    let sent: HashSet<String> = acknowledged
        .iter()
        .chain(&produced.unknown)
        .map(Uuid::to_string)
        .collect();
    for id in done.keys() {
        assert!(
            sent.contains(id),
            "{id} ran but its enqueue was never acknowledged nor ambiguous"
        );
    }
    for id in &produced.not_enqueued {
        assert!(
            !done.contains_key(&id.to_string()),
            "{id} ran though every attempt to enqueue it was refused"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_mid_run_loses_nothing() {
    let mut cluster = RedisCluster::start(3, 1);
    survive(&mut cluster, "cluster-failover", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_loses_no_replicated_job() {
    let mut cluster = RedisCluster::start(3, 1);
    survive(&mut cluster, "cluster-kill", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_ups_reach_the_worker_from_every_primary() {
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-wakeups").await;
    let queues = spread_queues(&cluster, env.prefix(), 1);
    // Polling so slow, and no ready watch, so that only a pub/sub wake-up
    // can start the jobs in time.
    let worker = test_worker(&env)
        .queues(queues.clone())
        .idle_poll_interval(Duration::from_secs(60))
        .watch_ready(false)
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for queue in &queues {
        env.client()
            .job(env.test_job())
            .queue(queue)
            .enqueue()
            .await
            .unwrap();
    }
    assert!(
        env.wait_done(queues.len(), Duration::from_secs(10)).await,
        "every primary's wake-up reached the worker's single subscription"
    );
    worker.shutdown().await;
}

/// An idle worker's ready watches (one blocking `BLMOVE` per queue, each
/// on the primary holding the queue's slot) find jobs pushed on every
/// primary with no wake-up published at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_watches_reach_queues_on_every_primary() {
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-watch").await;
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let worker = test_worker(&env)
        .queues(queues.clone())
        .idle_poll_interval(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let store = env.client().store().clone();
    let mut conn = store.connection();
    for queue in &queues {
        let keys = store.queue_keys(queue).unwrap();
        jobqueue_integration::raw_push::push_without_wake_up(&mut conn, &keys, &env.test_job())
            .await;
    }
    assert!(
        env.wait_done(queues.len(), Duration::from_secs(10)).await,
        "a job pushed without a wake-up waited for the minute-long poll"
    );
    worker.shutdown().await;
}

/// Keyed flow control builds its per-key list and bucket names inside the
/// scripts, from the queue's own `{queue}` hash tag: on a cluster those
/// keys are in the slot the script runs on, which Redis allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_jobs_run_on_a_cluster() {
    let cluster = RedisCluster::start(3, 1);
    let env = cluster_env(&cluster, "cluster-keyed").await;
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let admin = env.client().admin();
    let mut expected = 0;
    for queue in &queues {
        admin
            .set_key_limits(
                queue,
                "account",
                jobqueue_core::KeyLimits {
                    max_running: Some(1),
                    rate: Some(jobqueue_core::RateLimit::bucket(50, Duration::from_secs(1))),
                },
            )
            .await
            .unwrap();
        for n in 0..6 {
            let job = jobqueue_integration::jobs::TestJob {
                fail_times: u32::from(n == 0),
                ..env.test_job()
            };
            env.client()
                .job(job)
                .queue(queue)
                .flow_key(format!("account:{}", n % 2))
                .enqueue()
                .await
                .unwrap();
            expected += 1;
        }
        env.client()
            .job(env.test_job())
            .queue(queue)
            .flow_key("account:9")
            .delay(Duration::from_millis(300))
            .enqueue()
            .await
            .unwrap();
        expected += 1;
        let cancelled = env
            .client()
            .job(env.test_job())
            .queue(queue)
            .flow_key("account:0")
            .enqueue()
            .await
            .unwrap();
        assert!(matches!(
            admin.cancel(queue, cancelled).await.unwrap(),
            jobqueue_core::CancelOutcome::Cancelled { .. }
        ));
    }
    let worker = test_worker(&env)
        .queues(queues.clone())
        .start()
        .await
        .unwrap();
    assert!(
        env.wait_done(expected, Duration::from_secs(30)).await,
        "keyed jobs finish on every primary"
    );
    worker.shutdown().await;
    for queue in &queues {
        assert!(admin.flow_keys(queue, 10).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_release_across_primaries() {
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-chains").await;
    // One queue per primary: every release crosses slots and nodes.
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let mut parents = Vec::new();
    for queue in &queues {
        parents.push(
            env.client()
                .job(env.test_job())
                .queue(queue)
                .with_dependents()
                .enqueue()
                .await
                .unwrap(),
        );
    }
    // Fan-in on the first queue (parent queues looked up), then a chain
    // link on the last queue.
    let fan_in = env
        .client()
        .job(env.test_job())
        .queue(&queues[0])
        .after_all(parents.clone())
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let last = env
        .client()
        .job(env.test_job())
        .queue(&queues[queues.len() - 1])
        .after(fan_in)
        .enqueue()
        .await
        .unwrap();
    let waiting = env
        .client()
        .admin()
        .job(&queues[0], fan_in)
        .await
        .unwrap()
        .expect("the fan-in job waits");
    assert_eq!(waiting.state, jobqueue_core::JobState::Waiting);

    let worker = test_worker(&env)
        .queues(queues.clone())
        .start()
        .await
        .unwrap();
    assert!(
        env.wait_done(parents.len() + 2, Duration::from_secs(20))
            .await
    );
    worker.shutdown().await;
    let done = env.done().await;
    for id in parents.iter().chain([&fan_in, &last]) {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    let attempts = env.attempts().await;
    let start = |id: &Uuid| {
        attempts
            .iter()
            .position(|a| a.starts_with(&id.to_string()))
            .expect("started")
    };
    for parent in &parents {
        assert!(start(parent) < start(&fan_in));
    }
    assert!(start(&fan_in) < start(&last));
}

/// Nested batches three levels deep, each level on another primary: every
/// child tells its parent through its own queue's release outbox (no
/// script touches two slots), and a purge of a child's queue counts its
/// jobs in their batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_batches_complete_across_primaries() {
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-nested").await;
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let client = env.client();
    let top = client.batch().queue(&queues[0]).create().await.unwrap();
    let middle = top.child().queue(&queues[1]).create().await.unwrap();
    middle
        .child()
        .queue(&queues[2])
        .enqueue((0..3).map(|_| env.test_job()))
        .await
        .unwrap();
    middle.add([env.test_job()]).await.unwrap();
    middle.seal().await.unwrap();
    // A second child whose jobs are purged: counted cancelled there, so
    // it completes, and the top batch counts it cancelled.
    let purged = top
        .child()
        .queue(&queues[2])
        .enqueue((0..2).map(|_| env.test_job()))
        .await
        .unwrap();
    assert_eq!(client.admin().purge(&queues[2]).await.unwrap(), 5);
    top.seal().await.unwrap();
    let purged_info = client.admin().batch(&queues[2], purged.id()).await.unwrap();
    assert_eq!((purged_info.cancelled, purged_info.pending), (2, 0));
    // The grandchild's three jobs went with the purge too: it ends
    // cancelled, so the middle batch (1 job succeeded, 1 child cancelled)
    // counts cancelled in the top batch as well.
    let worker = test_worker(&env)
        .queues(queues.clone())
        .reap_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let admin = client.admin();
    assert!(
        eventually(Duration::from_secs(20), || async {
            admin.batch(&queues[0], top.id()).await.unwrap().pending == 0
        })
        .await,
        "the top batch did not complete"
    );
    worker.shutdown().await;
    let t = admin.batch(&queues[0], top.id()).await.unwrap();
    assert_eq!((t.total, t.cancelled, t.succeeded), (2, 2, 0), "{t:?}");
    let m = admin.batch(&queues[1], middle.id()).await.unwrap();
    assert_eq!((m.total, m.succeeded, m.cancelled), (2, 1, 1), "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_and_the_prefix_purge_work_on_a_cluster() {
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-status").await;
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let client = env.client();
    let mut ids = Vec::new();
    for queue in &queues {
        let id = client
            .job(env.test_job())
            .queue(queue)
            .track()
            .enqueue()
            .await
            .unwrap();
        // Found on whichever primary holds its queue.
        let status = client.status(id).await.unwrap().expect("status at enqueue");
        assert_eq!(status.state, jobqueue_core::JobStatusState::Queued);
        ids.push(id);
    }
    assert_eq!(client.status(Uuid::now_v7()).await.unwrap(), None);
    let worker = test_worker(&env)
        .queues(queues.clone())
        .start()
        .await
        .unwrap();
    for id in &ids {
        let done = eventually(Duration::from_secs(15), || async {
            client
                .status(*id)
                .await
                .unwrap()
                .is_some_and(|s| s.state == jobqueue_core::JobStatusState::Succeeded)
        })
        .await;
        assert!(done, "{id}: {:?}", client.status(*id).await);
    }
    worker.shutdown().await;

    // Every primary's keys under the prefix are counted and removed.
    let admin = client.admin();
    let found = admin.count_prefix_keys().await.unwrap();
    assert!(found >= 3 * 3, "{found}");
    assert_eq!(admin.purge_prefix().await.unwrap(), found);
    assert_eq!(admin.count_prefix_keys().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_and_results_work_across_primaries() {
    use jobqueue_integration::step_job::StepJob;
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-workflows").await;
    // One queue per primary: every edge crosses slots and nodes.
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let traces = format!("{}:steps", env.prefix());
    let step = |label: &str, add: i64| StepJob::new(env.url(), &traces, label, add);
    let client = env.client();
    let id = client
        .workflow("across primaries")
        .node("a", client.job(step("a", 1)).queue(&queues[0]))
        .node("b", client.job(step("b", 10)).queue(&queues[1]))
        .node("sum", client.job(step("sum", 100)).queue(&queues[2]))
        .node("report", client.job(step("report", 0)).queue(&queues[0]))
        .edge("a", "sum")
        .edge("b", "sum")
        .edge("sum", "report")
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env)
        .register::<StepJob>()
        .queues(queues.clone())
        .start()
        .await
        .unwrap();
    let report = client.workflow_status(id).await.unwrap().nodes[3].job_id;
    let result: Option<i64> = client
        .wait_result(report, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(result, Some(111), "results flowed across three primaries");
    assert!(
        eventually(Duration::from_secs(10), || async {
            client.workflow_status(id).await.unwrap().summary.state
                == jobqueue_core::WorkflowState::Succeeded
        })
        .await
    );
    worker.shutdown().await;
    let listed = client
        .admin()
        .list_workflows(None, None, None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "found on its queue among the primaries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_jobs_are_indexed_and_searched_on_a_cluster() {
    let cluster = RedisCluster::start(3, 0);
    let env = cluster_env(&cluster, "cluster-tags").await;
    let queues = spread_queues(&cluster, env.prefix(), 1);
    let admin = env.client().admin();
    let query = jobqueue_core::admin::SearchQuery::tag("customer:4711").unwrap();
    for queue in &queues {
        let client = env.client();
        let mut ids = HashSet::new();
        // Every enqueue script that indexes tags, on every primary.
        ids.insert(
            client
                .job(env.test_job())
                .queue(queue)
                .tags(["customer:4711"])
                .enqueue()
                .await
                .unwrap(),
        );
        ids.insert(
            client
                .job(env.test_job())
                .queue(queue)
                .delay(Duration::from_secs(600))
                .tags(["customer:4711"])
                .enqueue()
                .await
                .unwrap(),
        );
        ids.insert(
            client
                .job(env.test_job())
                .queue(queue)
                .id(Uuid::now_v7())
                .tags(["customer:4711"])
                .enqueue()
                .await
                .unwrap(),
        );
        ids.insert(
            client
                .job(env.test_job())
                .queue(queue)
                .unique_for(Duration::from_secs(60))
                .tags(["customer:4711"])
                .enqueue()
                .await
                .unwrap(),
        );
        let page = admin.search(queue, &query, None, 50, 100).await.unwrap();
        let found: HashSet<Uuid> = page.hits.iter().map(|h| h.id).collect();
        assert_eq!(found, ids, "{queue}");
        let scan = jobqueue_core::admin::SearchQuery::job_type("test_job").unwrap();
        let scanned = admin.search(queue, &scan, None, 50, 100).await.unwrap();
        assert_eq!(scanned.hits.len(), 4, "{queue}");
    }
}
