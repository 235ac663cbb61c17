//! Job chains and fan-in against real Redis and real workers: a dependent
//! waits in its queue's waiting-for-parents place and runs after its last
//! parent succeeded; a parent's death follows the dependent's policy; a
//! worker that dies between a parent's ack and the release is covered by
//! the sweeper; a parent that finished before its dependent was enqueued
//! counts; and every job is in exactly one place throughout.

use std::collections::HashMap;
use std::time::Duration;

use jobqueue_core::store::CompletionBatch;
use jobqueue_core::{
    CancelOutcome, CancelledFrom, JobSet, JobState, OnParentFailure, ParentState, UniqueOutcome,
};
use jobqueue_integration::locate::locate_jobs;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};
use uuid::Uuid;

/// Where `id` is in `queue` (empty when it is nowhere: finished).
async fn places(env: &TestRedis, queue: &str, id: Uuid) -> Vec<String> {
    locate_jobs(env, queue)
        .await
        .remove(&id.to_string())
        .unwrap_or_default()
}

/// A parent (with dependents) that dies on its first and only attempt, and
/// succeeds if an operator retries it.
async fn dying_parent(env: &TestRedis) -> Uuid {
    env.client()
        .job(jobqueue_integration::jobs::TestJob {
            fail_first_runs: 1,
            ..env.test_job()
        })
        .max_attempts(1)
        .with_dependents()
        .enqueue()
        .await
        .unwrap()
}

/// Three dependents of `parent` on the `children` queue, one per
/// `OnParentFailure` policy: (dead letter, run, wait).
async fn child_per_policy(env: &TestRedis, parent: Uuid) -> (Uuid, Uuid, Uuid) {
    let client = env.client();
    let child = |policy| {
        client
            .job(env.test_job())
            .queue("children")
            .after(parent)
            .on_parent_failure(policy)
            .enqueue()
    };
    (
        child(OnParentFailure::DeadLetter).await.unwrap(),
        child(OnParentFailure::Run).await.unwrap(),
        child(OnParentFailure::Wait).await.unwrap(),
    )
}

/// Position of the first start of `id` in the start log.
fn start_index(attempts: &[String], id: Uuid) -> usize {
    let prefix = format!("{id}:");
    attempts
        .iter()
        .position(|entry| entry.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{id} never started; starts: {attempts:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_runs_in_order_and_each_link_waits_in_one_place() {
    let env = test_redis("chain_order").await;
    let client = &env.client();
    let slow = jobqueue_integration::jobs::TestJob {
        sleep_ms: 300,
        ..env.test_job()
    };
    let a = client.job(slow).with_dependents().enqueue().await.unwrap();
    let b = client
        .job(env.test_job())
        .with_dependents()
        .after(a)
        .enqueue()
        .await
        .unwrap();
    let c = client.job(env.test_job()).after(b).enqueue().await.unwrap();

    assert_eq!(places(&env, "default", a).await, ["ready"]);
    assert_eq!(places(&env, "default", b).await, ["waiting"]);
    assert_eq!(places(&env, "default", c).await, ["waiting"]);
    let admin = client.admin();
    let info = admin.job("default", b).await.unwrap().expect("b is listed");
    assert_eq!(info.state, JobState::Waiting);
    let deps = admin.dependencies(&info).await.unwrap();
    assert_eq!(deps.parents.len(), 1);
    assert_eq!(
        (deps.parents[0].id, deps.parents[0].state),
        (a, ParentState::Pending)
    );
    assert_eq!(deps.children.len(), 1);
    assert_eq!(deps.children[0].id, c);
    assert_eq!(
        admin.find_job(c).await.unwrap().unwrap().state,
        JobState::Waiting
    );
    assert_eq!(admin.queue("default").await.unwrap().waiting, 2);

    let worker = test_worker(&env).concurrency(4).start().await.unwrap();
    // While A runs, B and C still wait.
    assert!(
        eventually(Duration::from_secs(5), || async {
            places(&env, "default", a).await == ["active"]
        })
        .await
    );
    assert_eq!(places(&env, "default", b).await, ["waiting"]);
    assert!(env.wait_done(3, Duration::from_secs(10)).await);
    worker.shutdown().await;

    let attempts = env.attempts().await;
    assert!(start_index(&attempts, a) < start_index(&attempts, b));
    assert!(start_index(&attempts, b) < start_index(&attempts, c));
    let done = env.done().await;
    for id in [a, b, c] {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    assert!(locate_jobs(&env, "default").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_in_runs_after_every_parent_in_two_queues() {
    let env = test_redis("chain_fan_in").await;
    let client = &env.client();
    let job = |sleep_ms| jobqueue_integration::jobs::TestJob {
        sleep_ms,
        ..env.test_job()
    };
    let a1 = client
        .job(job(0))
        .queue("left")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let a2 = client
        .job(job(50))
        .queue("left")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let a3 = client
        .job(job(600))
        .queue("right")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    // Parent queues are looked up (a1, a3) or given (a2).
    let c = client
        .job(job(0))
        .queue("sink")
        .after_all([a1, a3])
        .after(("left", a2))
        .enqueue()
        .await
        .unwrap();
    assert_eq!(places(&env, "sink", c).await, ["waiting"]);

    let worker = test_worker(&env)
        .queues(["left", "right", "sink"])
        .concurrency(4)
        .start()
        .await
        .unwrap();
    // a1 and a2 finish well before a3: c keeps waiting for a3.
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    assert_eq!(places(&env, "sink", c).await, ["waiting"]);
    let info = client.admin().job("sink", c).await.unwrap().unwrap();
    let deps = client.admin().dependencies(&info).await.unwrap();
    assert_eq!(deps.parents.len(), 3);
    assert!(deps.parents_succeeded >= 2, "{deps:?}");
    assert!(env.wait_done(4, Duration::from_secs(10)).await);
    worker.shutdown().await;

    let attempts = env.attempts().await;
    for parent in [a1, a2, a3] {
        assert!(start_index(&attempts, parent) < start_index(&attempts, c));
    }
    assert_eq!(env.done().await.get(&c.to_string()), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_parent_follows_each_dependents_policy() {
    let env = test_redis("chain_policies").await;
    let client = &env.client();
    // Dies on its first run (one attempt); succeeds when an operator retries it.
    let parent = dying_parent(&env).await;
    let (dead_letter, run, wait) = child_per_policy(&env, parent).await;

    let worker = test_worker(&env)
        .queues(["default", "children"])
        .start()
        .await
        .unwrap();
    let admin = client.admin();
    assert!(
        eventually(Duration::from_secs(10), || async {
            places(&env, "children", dead_letter).await == ["dead"]
                && env.done().await.contains_key(&run.to_string())
        })
        .await,
        "dead_letter child dead-lettered and run child ran"
    );
    let dead = admin.job("children", dead_letter).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(
        dead.errors.last().map(|e| e.message.clone()),
        Some(format!("parent {parent} died"))
    );
    assert_eq!(places(&env, "children", wait).await, ["waiting"]);
    let info = admin.job("children", wait).await.unwrap().unwrap();
    let deps = admin.dependencies(&info).await.unwrap();
    assert_eq!(deps.parents[0].state, ParentState::Failed);
    assert_eq!(deps.on_parent_failure, Some(OnParentFailure::Wait));

    // An operator retries the parent; it succeeds and releases `wait`.
    assert_eq!(
        admin
            .retry("default", JobSet::Dead, &[parent])
            .await
            .unwrap(),
        1
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            env.done().await.contains_key(&wait.to_string())
        })
        .await,
        "wait child ran after its parent was retried"
    );
    worker.shutdown().await;
    let done = env.done().await;
    assert_eq!(done.get(&run.to_string()), Some(&1), "run child ran once");
    assert_eq!(done.get(&wait.to_string()), Some(&1));
    assert!(!done.contains_key(&dead_letter.to_string()));
    assert_eq!(places(&env, "children", dead_letter).await, ["dead"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_releases_children_of_a_worker_that_died_after_the_ack() {
    let env = test_redis("chain_sweeper").await;
    let client = &env.client();
    let parent = client
        .job(env.test_job())
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let child = client
        .job(env.test_job())
        .queue("children")
        .after(parent)
        .enqueue()
        .await
        .unwrap();

    // A worker leases the parent and records its success, then dies
    // before telling the child: only the outbox entry is left.
    let store = client.store();
    let keys = store.queue_keys("default").unwrap();
    let worker_id = "crashed-worker";
    let active = keys.active(worker_id);
    store
        .heartbeat(&keys, worker_id, Duration::from_secs(30))
        .await
        .unwrap();
    let leased = store.fetch(&keys, &active, worker_id, 1).await.unwrap();
    assert_eq!(leased.records.len(), 1);
    let batch = CompletionBatch {
        parent_acks: vec![parent.to_string().into_bytes()],
        ..CompletionBatch::default()
    };
    let report = store
        .complete(&keys, &active, &batch, Default::default())
        .await
        .unwrap();
    assert_eq!(report.acked, 1);
    assert_eq!(report.releases, [format!("{parent}|succeeded")]);
    assert_eq!(places(&env, "children", child).await, ["waiting"]);

    // Any live worker's sweeper finishes the release.
    let worker = test_worker(&env)
        .queues(["default", "children"])
        .reap_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    assert_eq!(env.done().await.get(&child.to_string()), Some(&1));
    let mut conn = env.connection().await.unwrap();
    let outbox: u64 = redis::cmd("ZCARD")
        .arg(keys.releases())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(outbox, 0, "the outbox is empty once applied");
    // Applying the entry again counts nothing twice.
    store.apply_releases(&keys, &report.releases).await.unwrap();
    assert!(places(&env, "children", child).await.is_empty());
    assert_eq!(env.done().await.get(&child.to_string()), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_that_already_succeeded_counts_and_unknown_parents_are_refused() {
    let env = test_redis("chain_late").await;
    let client = &env.client();
    let parent = client
        .job(env.test_job())
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);

    // Enqueued after its parent succeeded: released at once.
    let child = client
        .job(env.test_job())
        .after(parent)
        .enqueue()
        .await
        .unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
    assert_eq!(env.done().await.get(&child.to_string()), Some(&1));

    // A plain job (no dependents) and an unknown id cannot be parents; the
    // job is not enqueued.
    let plain = client.enqueue(env.test_job()).await.unwrap();
    for missing in [plain, Uuid::now_v7()] {
        let err = client
            .job(env.test_job())
            .after(missing)
            .enqueue()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unknown"), "{err}");
    }
    let located = locate_jobs(&env, "default").await;
    assert_eq!(located.len(), 1, "only the plain job waits: {located:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_cancel_and_delete_waiting_jobs() {
    let env = test_redis("chain_operator").await;
    let client = &env.client();
    let parent = client
        .job(env.test_job())
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let mut children = Vec::new();
    for _ in 0..3 {
        children.push(
            client
                .job(env.test_job())
                .after(parent)
                .enqueue()
                .await
                .unwrap(),
        );
    }
    let admin = client.admin();
    assert_eq!(
        admin.cancel("default", children[0]).await.unwrap(),
        CancelOutcome::Cancelled {
            from: CancelledFrom::Waiting
        }
    );
    assert_eq!(
        admin
            .delete("default", JobSet::Waiting, &[children[1]])
            .await
            .unwrap(),
        1
    );
    let page = admin
        .browse(
            "default",
            jobqueue_core::BrowseState::Waiting,
            &Default::default(),
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        page.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        [children[2]]
    );

    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
    let done = env.done().await;
    assert_eq!(done.get(&children[2].to_string()), Some(&1));
    assert!(!done.contains_key(&children[0].to_string()));
    assert!(!done.contains_key(&children[1].to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_is_in_exactly_one_place_while_chains_run() {
    let env = test_redis("chain_invariant").await;
    let client = &env.client();
    let queues = ["q1", "q2"];
    let job = |sleep_ms| jobqueue_integration::jobs::TestJob {
        sleep_ms,
        ..env.test_job()
    };
    let mut parents = Vec::new();
    for n in 0..20u64 {
        let queue = queues[(n % 2) as usize];
        let id = client
            .job(job(n % 5 * 10))
            .queue(queue)
            .with_dependents()
            .enqueue()
            .await
            .unwrap();
        parents.push(id);
    }
    let mut all: Vec<(String, Uuid)> = parents
        .iter()
        .enumerate()
        .map(|(n, id)| (queues[n % 2].to_owned(), *id))
        .collect();
    for n in 0..20usize {
        let queue = queues[(n + 1) % 2];
        let picked = [
            parents[n],
            parents[(n * 7 + 3) % 20],
            parents[(n * 3 + 1) % 20],
        ];
        let id = client
            .job(job(5))
            .queue(queue)
            .after_all(picked)
            .enqueue()
            .await
            .unwrap();
        all.push((queue.to_owned(), id));
    }

    let worker = test_worker(&env)
        .queues(queues)
        .concurrency(6)
        .start()
        .await
        .unwrap();
    let check = || async {
        let mut seen: HashMap<String, Vec<String>> = HashMap::new();
        for queue in queues {
            for (id, places) in locate_jobs(&env, queue).await {
                seen.entry(id).or_default().extend(places);
            }
        }
        for (id, places) in &seen {
            assert_eq!(places.len(), 1, "job {id} is in {places:?}");
        }
        seen.len()
    };
    let mut rounds = 0;
    while env.done_count().await < all.len() as u64 && rounds < 500 {
        check().await;
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(env.wait_done(all.len(), Duration::from_secs(15)).await);
    worker.shutdown().await;
    assert_eq!(check().await, 0, "nothing is left anywhere");
    let done = env.done().await;
    for (_, id) in &all {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    let attempts = env.attempts().await;
    for (n, (_, child)) in all[20..].iter().enumerate() {
        for parent in [
            parents[n],
            parents[(n * 7 + 3) % 20],
            parents[(n * 3 + 1) % 20],
        ] {
            assert!(start_index(&attempts, parent) < start_index(&attempts, *child));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_shows_parents_and_children() {
    use jobqueue_integration::dashboard::{As, Dashboard, operator_config};
    let env = test_redis("chain_api").await;
    let client = &env.client();
    let parent = client
        .job(env.test_job())
        .queue("upstream")
        .with_dependents()
        .delay(Duration::from_secs(60))
        .enqueue()
        .await
        .unwrap();
    let child = client
        .job(env.test_job())
        .after(parent)
        .on_parent_failure(OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());

    let detail = dash
        .get(&format!("/api/v1/jobs/{child}"), As::Reader)
        .await
        .json();
    assert_eq!(detail["state"], "waiting");
    assert_eq!(detail["on_parent_failure"], "run");
    assert_eq!(detail["after"][0]["queue"], "upstream");
    let parents = &detail["dependencies"]["parents"];
    assert_eq!(parents[0]["id"], parent.to_string());
    assert_eq!(parents[0]["state"], "pending");
    assert_eq!(detail["dependencies"]["parents_succeeded"], 0);

    let detail = dash
        .get(&format!("/api/v1/queues/upstream/job/{parent}"), As::Reader)
        .await
        .json();
    assert_eq!(detail["state"], "scheduled");
    assert_eq!(detail["dependents"], true);
    assert_eq!(
        detail["dependencies"]["children"][0]["id"],
        child.to_string()
    );
    assert_eq!(detail["dependencies"]["children"][0]["queue"], "default");

    // The job page has a small chain section linking the parent.
    let html = dash
        .get(&format!("/queues/default/job/{child}"), As::Browser)
        .await
        .body;
    assert!(html.contains("job-chain"), "{html}");
    assert!(
        html.contains(&format!("/queues/upstream/job/{parent}")),
        "{html}"
    );

    let page = dash
        .get("/api/v1/queues/default/jobs/waiting", As::Reader)
        .await
        .json();
    assert_eq!(page["jobs"][0]["id"], child.to_string());
    let queue = dash.get("/api/v1/queues/default", As::Reader).await.json();
    assert_eq!(queue["waiting"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_expired_parent_counts_as_dead() {
    let env = test_redis("chain_cancel_expire").await;
    let client = &env.client();
    let cancelled = client
        .job(env.test_job())
        .delay(Duration::from_secs(60))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let expiring = client
        .job(env.test_job())
        .expires_in(Duration::from_millis(200))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let dead_letter = client
        .job(env.test_job())
        .after(cancelled)
        .enqueue()
        .await
        .unwrap();
    let run = client
        .job(env.test_job())
        .after(expiring)
        .on_parent_failure(OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();

    let admin = client.admin();
    assert!(matches!(
        admin.cancel("default", cancelled).await.unwrap(),
        CancelOutcome::Cancelled { .. }
    ));
    assert_eq!(places(&env, "default", dead_letter).await, ["dead"]);

    tokio::time::sleep(Duration::from_millis(400)).await;
    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    let done = env.done().await;
    assert_eq!(done.get(&run.to_string()), Some(&1));
    assert!(
        !done.contains_key(&expiring.to_string()),
        "the parent expired"
    );
}

/// Flow-key bookkeeping of `queue` is empty: no key holds a running slot
/// or waiting jobs.
async fn assert_no_flow_keys_left(env: &TestRedis, queue: &str) {
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(5), || async {
            admin.flow_keys(queue, 100).await.unwrap().is_empty()
        })
        .await,
        "flow keys left: {:?}",
        admin.flow_keys(queue, 100).await
    );
    assert_eq!(admin.queue(queue).await.unwrap().keyed, 0);
}

/// A parent may carry a flow key: its success (`ack_parents.lua`) and its
/// death (`bury.lua` with parent keys) free the key in the same step as
/// they record its end, so the key's next job runs; a keyed dependent,
/// once released, joins its key's list behind the jobs already there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_parents_free_their_key_and_keyed_children_run_within_it() {
    let env = test_redis("chain_keyed").await;
    let client = &env.client();
    let slow = jobqueue_integration::jobs::TestJob {
        sleep_ms: 200,
        ..env.test_job()
    };
    // account:1 (one job at a time): a keyed parent, a job of the same key
    // behind it, and a keyed child of the parent.
    let parent = client
        .job(slow)
        .flow_key("account:1")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let sibling = client
        .job(env.test_job())
        .flow_key("account:1")
        .enqueue()
        .await
        .unwrap();
    let child = client
        .job(env.test_job())
        .flow_key("account:1")
        .after(parent)
        .enqueue()
        .await
        .unwrap();
    // account:2: a keyed parent that dies, a job of its key behind it, and
    // a plain child that runs anyway.
    let doomed = client
        .job(jobqueue_integration::jobs::TestJob {
            permanent: true,
            ..env.test_job()
        })
        .max_attempts(1)
        .flow_key("account:2")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let behind = client
        .job(env.test_job())
        .flow_key("account:2")
        .enqueue()
        .await
        .unwrap();
    let run_anyway = client
        .job(env.test_job())
        .after(doomed)
        .on_parent_failure(OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();
    assert_eq!(places(&env, "default", parent).await, ["keyed"]);
    assert_eq!(places(&env, "default", child).await, ["waiting"]);
    assert_eq!(places(&env, "default", run_anyway).await, ["waiting"]);

    let worker = test_worker(&env).concurrency(4).start().await.unwrap();
    assert!(
        env.wait_done(5, Duration::from_secs(15)).await,
        "every job but the doomed parent ran: {:?}",
        env.done().await
    );
    worker.shutdown().await;

    let done = env.done().await;
    for id in [parent, sibling, child, behind, run_anyway] {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    let attempts = env.attempts().await;
    assert!(start_index(&attempts, parent) < start_index(&attempts, sibling));
    assert!(
        start_index(&attempts, sibling) < start_index(&attempts, child),
        "the released child queued behind its key's waiting job"
    );
    assert!(start_index(&attempts, doomed) < start_index(&attempts, behind));
    assert_no_flow_keys_left(&env, "default").await;
    let left = locate_jobs(&env, "default").await;
    assert_eq!(
        left,
        HashMap::from([(doomed.to_string(), vec!["dead".to_owned()])])
    );
}

/// A parent may be unique, and unique and keyed at once: its lock is freed
/// once its end is recorded for its children (whether it succeeded or
/// died), its key too. A job with parents cannot be unique.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_parents_free_their_lock_and_release_their_children() {
    let env = test_redis("chain_unique").await;
    let client = &env.client();
    let ttl = Duration::from_secs(60);
    let unique = |key: &'static str| client.job(env.test_job()).unique_for(ttl).unique_key(key);
    let parent = unique("plain").with_dependents().enqueue().await.unwrap();
    let keyed_parent = unique("keyed")
        .flow_key("account:1")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let doomed = client
        .job(jobqueue_integration::jobs::TestJob {
            permanent: true,
            ..env.test_job()
        })
        .max_attempts(1)
        .unique_for(ttl)
        .unique_key("doomed")
        .flow_key("account:2")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    // While the parents wait, their keys are held.
    assert_eq!(
        unique("plain").enqueue_unique().await.unwrap(),
        UniqueOutcome::Duplicate { existing: parent }
    );
    let fan_in = client
        .job(env.test_job())
        .after_all([parent, keyed_parent])
        .enqueue()
        .await
        .unwrap();
    let after_death = client
        .job(env.test_job())
        .after(doomed)
        .on_parent_failure(OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();
    let refused = unique("child").after(parent).enqueue().await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("cannot also be unique")),
        "{refused:?}"
    );

    let worker = test_worker(&env).concurrency(4).start().await.unwrap();
    assert!(
        env.wait_done(4, Duration::from_secs(15)).await,
        "parents and children ran: {:?}",
        env.done().await
    );
    worker.shutdown().await;
    let done = env.done().await;
    for id in [parent, keyed_parent, fan_in, after_death] {
        assert_eq!(done.get(&id.to_string()), Some(&1), "{id} ran once");
    }
    let attempts = env.attempts().await;
    for id in [parent, keyed_parent] {
        assert!(start_index(&attempts, id) < start_index(&attempts, fan_in));
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            !env.keys()
                .await
                .unwrap()
                .iter()
                .any(|k| k.contains(":unique:"))
        })
        .await,
        "locks left: {:?}",
        env.keys().await.unwrap()
    );
    for key in ["plain", "keyed", "doomed"] {
        assert!(
            matches!(
                unique(key).enqueue_unique().await.unwrap(),
                UniqueOutcome::Enqueued { .. }
            ),
            "the lock of {key} was freed"
        );
    }
    assert_no_flow_keys_left(&env, "default").await;
}

/// An operator deleting a parent that has not ended (here: still
/// scheduled) records it as failed: its children's policies apply at once,
/// with no worker running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_pending_parent_counts_as_its_death() {
    let env = test_redis("chain_delete_parent").await;
    let client = &env.client();
    let parent = client
        .job(env.test_job())
        .delay(Duration::from_secs(3600))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let (dead_letter, run, wait) = child_per_policy(&env, parent).await;
    for id in [dead_letter, run, wait] {
        assert_eq!(places(&env, "children", id).await, ["waiting"]);
    }

    let admin = client.admin();
    assert_eq!(
        admin
            .delete("default", JobSet::Scheduled, &[parent])
            .await
            .unwrap(),
        1
    );
    assert!(places(&env, "default", parent).await.is_empty());
    assert_eq!(places(&env, "children", dead_letter).await, ["dead"]);
    let dead = admin.job("children", dead_letter).await.unwrap().unwrap();
    assert_eq!(
        dead.errors.last().map(|e| e.message.clone()),
        Some(format!("parent {parent} died"))
    );
    assert_eq!(places(&env, "children", run).await, ["ready"]);
    assert_eq!(places(&env, "children", wait).await, ["waiting"]);
    let info = admin.job("children", wait).await.unwrap().unwrap();
    let deps = admin.dependencies(&info).await.unwrap();
    assert_eq!(deps.parents[0].state, ParentState::Failed);
    let mut conn = env.connection().await.unwrap();
    let keys = client.store().queue_keys("default").unwrap();
    let outbox: u64 = redis::cmd("ZCARD")
        .arg(keys.releases())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(outbox, 0, "the children were told at once");

    // The same for a keyed parent deleted from its key's list.
    let keyed_parent = client
        .job(env.test_job())
        .flow_key("account:1")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let keyed_child = client
        .job(env.test_job())
        .queue("children")
        .after(keyed_parent)
        .enqueue()
        .await
        .unwrap();
    assert_eq!(
        admin
            .delete_keyed("default", &[keyed_parent])
            .await
            .unwrap(),
        1
    );
    assert_eq!(places(&env, "children", keyed_child).await, ["dead"]);
}

/// A job dead-lettered because its parent died is itself a dead parent for
/// its own dependents: in A → B → C, when A dies, B goes to the dead set
/// and C follows its policy too (here: dead-lettered), instead of waiting
/// forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_runs_down_the_whole_chain() {
    let env = test_redis("chain_cascade").await;
    let client = &env.client();
    let a = dying_parent(&env).await;
    let b = client
        .job(env.test_job())
        .with_dependents()
        .after(a)
        .enqueue()
        .await
        .unwrap();
    let c = client
        .job(env.test_job())
        .queue("children")
        .after(b)
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env)
        .queues(["default", "children"])
        .reap_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            places(&env, "default", b).await == ["dead"]
                && places(&env, "children", c).await == ["dead"]
        })
        .await,
        "b: {:?}, c: {:?}",
        places(&env, "default", b).await,
        places(&env, "children", c).await
    );
    worker.shutdown().await;
    let admin = client.admin();
    let dead_c = admin.job("children", c).await.unwrap().unwrap();
    assert_eq!(
        dead_c.errors.last().map(|e| e.message.clone()),
        Some(format!("parent {b} died"))
    );
    let done = env.done().await;
    assert!(!done.contains_key(&b.to_string()) && !done.contains_key(&c.to_string()));
}

/// A unique parent still scheduled that a newer job replaces never runs:
/// it is a dead parent to its dependents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_unique_parent_counts_as_dead() {
    let env = test_redis("chain_replaced_parent").await;
    let client = &env.client();
    let job = env.test_job();
    let parent = client
        .job(job.clone())
        .unique_for(Duration::from_secs(3600))
        .delay(Duration::from_secs(3600))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let child = client
        .job(env.test_job())
        .queue("children")
        .after(parent)
        .enqueue()
        .await
        .unwrap();
    let outcome = client
        .job(job)
        .unique_for(Duration::from_secs(3600))
        .on_duplicate(jobqueue_core::UniqueMode::Replace)
        .enqueue_unique()
        .await
        .unwrap();
    assert!(
        matches!(outcome, UniqueOutcome::Replaced { replaced: Some(old), .. } if old == parent),
        "{outcome:?}"
    );
    // The outbox entry is the sweeper's to apply.
    let keys = client.store().queue_keys("default").unwrap();
    assert_eq!(client.store().sweep_releases(&keys).await.unwrap(), 1);
    assert_eq!(places(&env, "children", child).await, ["dead"]);
}
