//! Results between jobs and workflows against real Redis and two real
//! worker processes serving two queues: results across queues and fan-in,
//! each edge policy (fail, skip, run), the status roll-up, cancel, retry
//! from a failed node keeping what succeeded, the result size cap, and
//! bad workflows refused before anything is written.

use std::time::Duration;

use jobqueue_core::{Client, NodeState, OnParentFailure, WorkflowState, WorkflowStatus};
use jobqueue_integration::step_job::StepJob;
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{WorkerProcess, test_redis};
use jobqueue_testing::{TestRedis, eventually};
use redis::AsyncCommands;
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

/// Two worker processes serving `default` and `other`.
fn workers(env: &TestRedis) -> [WorkerProcess; 2] {
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.queues = "default,other".to_owned();
    spec.lease_ms = 2000;
    [
        WorkerProcess::start(WORKER, &spec),
        WorkerProcess::start(WORKER, &spec),
    ]
}

fn stop(workers: [WorkerProcess; 2]) {
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(10)));
    }
}

fn step(env: &TestRedis, label: &str, add: i64) -> StepJob {
    StepJob::new(env.url(), &format!("{}:steps", env.prefix()), label, add)
}

async fn seen(env: &TestRedis, label: &str) -> Option<String> {
    let mut conn = env.connection().await.unwrap();
    conn.get(format!("{}:steps:seen:{label}", env.prefix()))
        .await
        .unwrap()
}

async fn runs(env: &TestRedis, label: &str) -> u64 {
    let mut conn = env.connection().await.unwrap();
    let runs: Option<u64> = conn
        .hget(format!("{}:steps:ran", env.prefix()), label)
        .await
        .unwrap();
    runs.unwrap_or(0)
}

async fn break_step(env: &TestRedis, label: &str, broken: bool) {
    let mut conn = env.connection().await.unwrap();
    let key = format!("{}:steps:broken:{label}", env.prefix());
    if broken {
        let _: () = conn.set(key, 1).await.unwrap();
    } else {
        let _: () = conn.del(key).await.unwrap();
    }
}

/// Waits until workflow `id` no longer runs; returns its status.
async fn settled(client: &Client, id: Uuid) -> WorkflowStatus {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = client.workflow_status(id).await.unwrap();
        let running = matches!(
            status.summary.state,
            WorkflowState::Running | WorkflowState::Incomplete
        );
        if !running {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "workflow still running: {status:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn states(status: &WorkflowStatus) -> Vec<(String, NodeState)> {
    status
        .nodes
        .iter()
        .map(|node| (node.name.clone(), node.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_flow_to_dependents_across_queues_and_fan_in() {
    let env = test_redis("results-flow").await;
    let workers = workers(&env);
    let client = env.client();
    let a = client
        .job(step(&env, "a", 1))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let b = client
        .job(step(&env, "b", 10))
        .queue("other")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let c = client
        .job(step(&env, "c", 100))
        .after(("default", a))
        .after(("other", b))
        .track()
        .enqueue()
        .await
        .unwrap();
    let sum: Option<i64> = client
        .wait_result(c, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(sum, Some(111), "c read both parents' results");
    assert_eq!(
        seen(&env, "c").await.as_deref(),
        Some(r#"[["succeeded",1],["succeeded",10]]"#)
    );
    // Kept in the parent's dependency record, on the parent's queue, as
    // docs/protocol.md says (readable long after the 5-minute status).
    let mut conn = env.connection().await.unwrap();
    let stored: Option<String> = conn
        .hget(format!("{}:{{other}}:parent:{b}", env.prefix()), "result")
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("10"));
    let ttl: i64 = conn
        .pttl(format!("{}:{{other}}:parent:{b}", env.prefix()))
        .await
        .unwrap();
    assert!(ttl > 29 * 24 * 3600 * 1000, "kept 30 days, TTL {ttl} ms");
    stop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_queue_workflow_with_a_fan_in_succeeds_and_rolls_up() {
    let env = test_redis("wf-fan-in").await;
    let workers = workers(&env);
    let client = env.client();
    let id = client
        .workflow("nightly <import>")
        .node("fetch a", client.job(step(&env, "fetch a", 1)))
        .node(
            "fetch b",
            client.job(step(&env, "fetch b", 2)).queue("other"),
        )
        .node("merge", client.job(step(&env, "merge", 0)))
        .node(
            "report",
            client.job(step(&env, "report", 1000)).queue("other"),
        )
        .edge("fetch a", "merge")
        .edge("fetch b", "merge")
        .edge("merge", "report")
        .enqueue()
        .await
        .unwrap();
    let status = settled(&client, id).await;
    assert_eq!(
        status.summary.state,
        WorkflowState::Succeeded,
        "{status:#?}"
    );
    assert_eq!(status.summary.name, "nightly <import>");
    assert_eq!(
        status.summary.queue, "default",
        "recorded on the first node's queue"
    );
    assert_eq!(status.summary.counts.succeeded, 4);
    assert_eq!(status.nodes[3].name, "report", "topological order");
    assert_eq!(status.node("report").unwrap().depth, 2);
    assert_eq!(
        seen(&env, "merge").await.as_deref(),
        Some(r#"[["succeeded",1],["succeeded",2]]"#)
    );
    assert_eq!(
        seen(&env, "report").await.as_deref(),
        Some(r#"[["succeeded",3]]"#)
    );
    // Each job names its workflow and node in its envelope.
    let listed = client
        .admin()
        .list_workflows(None, Some(WorkflowState::Succeeded), Some("import"), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    stop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_edge_policy_fails_skips_or_runs_its_dependent() {
    let env = test_redis("wf-policies").await;
    break_step(&env, "x", true).await;
    let workers = workers(&env);
    let client = env.client();
    let id = client
        .workflow("policies")
        .node("x", client.job(step(&env, "x", 1)))
        .node("failed", client.job(step(&env, "failed", 0)))
        .node(
            "skipped",
            client.job(step(&env, "skipped", 0)).queue("other"),
        )
        .node("ran", client.job(step(&env, "ran", 5)))
        .node("skipped too", client.job(step(&env, "skipped too", 0)))
        .node(
            "ran after skip",
            client.job(step(&env, "ran after skip", 7)).queue("other"),
        )
        .edge("x", "failed")
        .edge_with("x", "skipped", OnParentFailure::Skip)
        .edge_with("x", "ran", OnParentFailure::Run)
        .edge_with("skipped", "skipped too", OnParentFailure::Skip)
        .edge_with("skipped", "ran after skip", OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();
    let status = settled(&client, id).await;
    assert_eq!(
        states(&status),
        [
            ("x".to_owned(), NodeState::Failed),
            ("failed".to_owned(), NodeState::Failed),
            ("skipped".to_owned(), NodeState::Skipped),
            ("ran".to_owned(), NodeState::Succeeded),
            ("skipped too".to_owned(), NodeState::Skipped),
            ("ran after skip".to_owned(), NodeState::Succeeded),
        ],
        "{status:#?}"
    );
    assert_eq!(status.summary.state, WorkflowState::Failed);
    assert_eq!(status.summary.counts.skipped, 2);
    // Run anyway: the dead parent reads as failed, without a result.
    assert_eq!(
        seen(&env, "ran").await.as_deref(),
        Some(r#"[["failed",null]]"#)
    );
    assert_eq!(
        seen(&env, "ran after skip").await.as_deref(),
        Some(r#"[["failed",null]]"#)
    );
    for never in ["failed", "skipped", "skipped too"] {
        assert_eq!(runs(&env, never).await, 0, "{never} never ran");
    }
    // The dead-lettered node sits in its queue's dead set; the skipped
    // ones are nowhere.
    let admin = client.admin();
    assert_eq!(
        admin.queue("default").await.unwrap().dead,
        2,
        "x and failed"
    );
    assert_eq!(admin.queue("other").await.unwrap().dead, 0);
    stop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_from_a_failed_node_reruns_it_and_downstream_keeping_results() {
    let env = test_redis("wf-retry").await;
    break_step(&env, "b", true).await;
    let workers = workers(&env);
    let client = env.client();
    let id = client
        .workflow("retry")
        .node("a", client.job(step(&env, "a", 1)))
        .node("b", client.job(step(&env, "b", 10)).queue("other"))
        .node("c", client.job(step(&env, "c", 100)))
        .node("side", client.job(step(&env, "side", 0)))
        .edge("a", "b")
        .edge("b", "c")
        .edge("a", "c")
        .edge("a", "side")
        .enqueue()
        .await
        .unwrap();
    let failed = settled(&client, id).await;
    assert_eq!(failed.summary.state, WorkflowState::Failed);
    assert_eq!(failed.node("b").unwrap().state, NodeState::Failed);
    assert_eq!(failed.node("c").unwrap().state, NodeState::Failed);
    // Only a failed node can be retried.
    let refused = client.retry_workflow_from(id, "a").await.unwrap_err();
    assert!(refused.to_string().contains("is succeeded"), "{refused}");
    let unknown = client.retry_workflow_from(id, "zz").await.unwrap_err();
    assert!(unknown.to_string().contains("no node \"zz\""), "{unknown}");

    break_step(&env, "b", false).await;
    let report = client.retry_workflow_from(id, "b").await.unwrap();
    let rerun: Vec<&str> = report.enqueued.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(rerun, ["b", "c"]);
    // The failed runs left the dead sets: their new jobs replace them.
    let admin = client.admin();
    assert_eq!(admin.queue("other").await.unwrap().dead, 0, "b's dead job");
    assert_eq!(
        admin.queue("default").await.unwrap().dead,
        0,
        "c's dead job"
    );
    let status = settled(&client, id).await;
    assert_eq!(
        status.summary.state,
        WorkflowState::Succeeded,
        "{status:#?}"
    );
    assert_eq!(status.summary.retries, 1);
    let b = status.node("b").unwrap();
    assert_eq!((b.reruns, b.job_id), (1, report.enqueued[0].1));
    assert_ne!(b.job_id, failed.node("b").unwrap().job_id);
    // a kept its result and did not run again; c read a's and the new b's.
    assert_eq!(runs(&env, "a").await, 1);
    assert_eq!(runs(&env, "side").await, 1);
    assert_eq!(runs(&env, "c").await, 1);
    assert_eq!(
        seen(&env, "c").await.as_deref(),
        Some(r#"[["succeeded",11],["succeeded",1]]"#)
    );
    stop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_workflow_cancels_every_node_that_may_still_run() {
    let env = test_redis("wf-cancel").await;
    let workers = workers(&env);
    let client = env.client();
    let mut slow = step(&env, "slow", 1);
    slow.sleep_ms = 30_000;
    let id = client
        .workflow("cancel me")
        .node("slow", client.job(slow))
        .node("after", client.job(step(&env, "after", 1)).queue("other"))
        .node("run anyway", client.job(step(&env, "run anyway", 1)))
        .edge("slow", "after")
        .edge_with("slow", "run anyway", OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            client
                .workflow_status(id)
                .await
                .unwrap()
                .node("slow")
                .unwrap()
                .state
                == NodeState::Running
        })
        .await
    );
    let cancelled = client.cancel_workflow(id).await.unwrap();
    assert_eq!(cancelled, 3);
    let status = settled(&client, id).await;
    assert_eq!(
        status.summary.state,
        WorkflowState::Cancelled,
        "{status:#?}"
    );
    assert_eq!(status.summary.counts.cancelled, 3);
    // The run-anyway node was cancelled before its parent: it never ran.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runs(&env, "run anyway").await, 0);
    assert_eq!(runs(&env, "after").await, 0);
    stop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_above_the_cap_fails_with_an_error_naming_the_cap() {
    let env = test_redis("result-cap").await;
    let workers = workers(&env);
    let client = env.client();
    let mut big = step(&env, "big", 0);
    big.result_bytes = 70_000;
    let id = client.job(big).with_dependents().enqueue().await.unwrap();
    let mut conn = env.connection().await.unwrap();
    let key = format!("{}:steps:errors", env.prefix());
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut conn = conn.clone();
            let key = key.clone();
            async move { conn.llen::<_, u64>(&key).await.unwrap() == 1 }
        })
        .await
    );
    let error: String = conn.lindex(&key, 0).await.unwrap();
    assert!(
        error.contains("70002 bytes of JSON, above the cap of 65536 bytes (MAX_RESULT_BYTES)"),
        "{error}"
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            runs(&env, "big").await == 1
        })
        .await
    );
    let stored: Option<String> = conn
        .hget(
            format!("{}:{{default}}:parent:{id}", env.prefix()),
            "result",
        )
        .await
        .unwrap();
    assert_eq!(stored, None, "nothing above the cap is kept");
    stop(workers);
}

#[tokio::test]
async fn bad_workflows_are_refused_before_anything_is_written() {
    let env = test_redis("wf-bad").await;
    let client = env.client();
    let node = |label: &str| client.job(step(&env, label, 0));
    let cases = [
        (client.workflow("empty"), "at least one node"),
        (
            client
                .workflow("dup")
                .node("a", node("a"))
                .node("a", node("a")),
            "two nodes are named \"a\"",
        ),
        (
            client
                .workflow("unknown")
                .node("a", node("a"))
                .edge("a", "b"),
            "unknown node \"b\"",
        ),
        (
            client
                .workflow("cycle")
                .node("a", node("a"))
                .node("b", node("b"))
                .node("c", node("c"))
                .edge("a", "b")
                .edge("b", "c")
                .edge("c", "b"),
            "cycle",
        ),
        (
            client
                .workflow("after")
                .node("a", node("a").after(Uuid::now_v7())),
            "do not call .after()",
        ),
        (
            client
                .workflow("bad queue")
                .node("a", node("a").queue("no spaces")),
            "queue",
        ),
        (client.workflow("").node("a", node("a")), "workflow name"),
    ];
    for (workflow, expected) in cases {
        let err = workflow.enqueue().await.unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} should say {expected}"
        );
        assert_eq!(
            err.kind(),
            jobqueue_core::ErrorKind::InvalidArgument,
            "{err}"
        );
    }
    let mut conn = env.connection().await.unwrap();
    let keys: Vec<String> = conn.keys(format!("{}:*", env.prefix())).await.unwrap();
    assert!(keys.is_empty(), "nothing written: {keys:?}");
    let missing = client.workflow_status(Uuid::now_v7()).await.unwrap_err();
    assert_eq!(missing.kind(), jobqueue_core::ErrorKind::NotFound);
}

/// Every command Redis ran since its last `CONFIG RESETSTAT`, by name
/// (`evalsha`, `hget`, …), on a private server nothing else uses.
async fn command_counts(url: &str) -> std::collections::BTreeMap<String, u64> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for line in info.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let (name, stats) = rest.split_once(':').unwrap();
        let calls = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .unwrap()
            .parse()
            .unwrap();
        counts.insert(name.to_owned(), calls);
    }
    counts.remove("info");
    counts.remove("config|resetstat");
    counts
}

async fn reset_stats(url: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// The figures of docs/benchmarks.md ("Workflows"): what enqueueing a
/// 10-node workflow costs in Redis commands and time, beside 10 plain
/// jobs and a 10-job chain built with `after`, on a private Redis so the
/// counts are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_cost_of_a_ten_node_workflow() {
    let server = jobqueue_integration::RedisServer::start();
    let env = jobqueue_integration::test_redis_on(&server.url(), "wf-cost").await;
    let client = env.client();
    // Warm up: queues registered, scripts loaded.
    let mut warm = client.workflow("warm");
    for n in 0..2 {
        warm = warm.node(
            format!("n{n}"),
            client
                .job(step(&env, "w", 0))
                .queue(["default", "other"][n]),
        );
    }
    warm.edge("n0", "n1").enqueue().await.unwrap();

    const ROUNDS: u32 = 20;
    let ten_nodes = |round: u32| {
        // Two roots on two queues, a fan-in, then a chain of seven.
        let mut wf = client.workflow(format!("cost {round}"));
        for n in 0..10 {
            let queue = if n % 2 == 0 { "default" } else { "other" };
            wf = wf.node(format!("n{n}"), client.job(step(&env, "c", n)).queue(queue));
        }
        wf = wf.edge("n0", "n2").edge("n1", "n2");
        for n in 2..9 {
            wf = wf.edge(format!("n{n}"), format!("n{}", n + 1));
        }
        wf
    };
    reset_stats(&server.url()).await;
    let started = std::time::Instant::now();
    for round in 0..ROUNDS {
        ten_nodes(round).enqueue().await.unwrap();
    }
    let workflow_time = started.elapsed() / ROUNDS;
    let workflow_cmds = command_counts(&server.url()).await;

    reset_stats(&server.url()).await;
    let started = std::time::Instant::now();
    for _ in 0..ROUNDS {
        for n in 0..10 {
            client.job(step(&env, "p", n)).enqueue().await.unwrap();
        }
    }
    let plain_time = started.elapsed() / ROUNDS;
    let plain_cmds = command_counts(&server.url()).await;

    reset_stats(&server.url()).await;
    let started = std::time::Instant::now();
    for _ in 0..ROUNDS {
        let mut last = client
            .job(step(&env, "h", 0))
            .with_dependents()
            .enqueue()
            .await
            .unwrap();
        for n in 1..10 {
            last = client
                .job(step(&env, "h", n))
                .after(("default", last))
                .with_dependents()
                .enqueue()
                .await
                .unwrap();
        }
    }
    let chain_time = started.elapsed() / ROUNDS;
    let chain_cmds = command_counts(&server.url()).await;

    let per = |counts: &std::collections::BTreeMap<String, u64>| -> f64 {
        counts.values().sum::<u64>() as f64 / f64::from(ROUNDS)
    };
    println!(
        "10-node workflow: {:?} and {:.1} commands per workflow {:?}",
        workflow_time,
        per(&workflow_cmds),
        workflow_cmds
    );
    println!(
        "10 plain jobs: {plain_time:?} and {:.1} commands {plain_cmds:?}",
        per(&plain_cmds)
    );
    println!(
        "10-job chain (after): {chain_time:?} and {:.1} commands {chain_cmds:?}",
        per(&chain_cmds)
    );
    // The workflow adds its record (open + gate), per-edge policies, the
    // nodes' statuses (they are tracked) and its gate (the roots wait for
    // it, and are released through the outbox) to what the same jobs cost
    // as a chain: a fraction more, not a multiple.
    assert!(
        per(&workflow_cmds) <= per(&chain_cmds) * 1.8,
        "{workflow_cmds:?} vs {chain_cmds:?}"
    );
    // Script calls: workflow_open, parent_open × 11 (the nodes and the
    // gate), link_child × 11 (one per edge, and each of the 2 roots to the
    // gate), enqueue_waiting × 10, workflow_gate, release_child × 2 (the
    // roots, when the gate opens).
    assert_eq!(
        workflow_cmds["evalsha"],
        u64::from(ROUNDS) * (1 + 11 + 11 + 10 + 1 + 2),
        "{workflow_cmds:?}"
    );
}

/// A producer that died mid-enqueue leaves the record in `enqueueing` and
/// only some nodes placed (here: the dependent, not the root). The
/// workflow shows incomplete, nothing runs, and cancelling it removes what
/// was placed.
#[tokio::test]
async fn an_incomplete_workflow_is_shown_and_cancelling_it_cleans_up() {
    let env = test_redis("wf-incomplete").await;
    let client = env.client();
    let id = client
        .workflow("crashed producer")
        .node("root", client.job(step(&env, "root", 1)))
        .node("child", client.job(step(&env, "child", 1)).queue("other"))
        .edge("root", "child")
        .enqueue()
        .await
        .unwrap();
    // As if the producer had died before opening the gate (which marks
    // the record placed): the root is gone, the child still waits.
    let admin = client.admin();
    assert_eq!(admin.purge("default").await.unwrap(), 1);
    let mut conn = env.connection().await.unwrap();
    let _: () = conn
        .hset(
            format!("{}:{{default}}:workflow:{id}", env.prefix()),
            "state",
            "enqueueing",
        )
        .await
        .unwrap();
    let status = client.workflow_status(id).await.unwrap();
    assert_eq!(
        status.summary.state,
        WorkflowState::Incomplete,
        "{status:#?}"
    );
    assert_eq!(status.node("child").unwrap().state, NodeState::Waiting);
    let listed = admin
        .list_workflows(Some("default"), Some(WorkflowState::Incomplete), None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        client.cancel_workflow(id).await.unwrap(),
        1,
        "the placed child"
    );
    let status = client.workflow_status(id).await.unwrap();
    assert_eq!(
        status.summary.state,
        WorkflowState::Cancelled,
        "{status:#?}"
    );
    assert_eq!(admin.queue("other").await.unwrap().waiting, 0);
}

/// A workflow with several roots is all or nothing: when placing the
/// second root fails (its queue's keys hold the wrong type), the first
/// root — placed, but waiting for the workflow's gate — never runs, even
/// with workers serving its queue, and the workflow is abandoned, not
/// half run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_that_fails_to_place_leaves_no_other_root_run() {
    let env = test_redis("wf-gate").await;
    let workers = workers(&env);
    let client = env.client();
    let mut conn = env.connection().await.unwrap();
    for place in ["ready", "waiting"] {
        let key = format!("{}:{{broken}}:{place}", env.prefix());
        let _: () = conn.set(key, "not a list").await.unwrap();
    }
    let err = client
        .workflow("two roots")
        .node("first", client.job(step(&env, "first", 1)))
        .node(
            "second",
            client.job(step(&env, "second", 1)).queue("broken"),
        )
        .node("join", client.job(step(&env, "join", 1)))
        .edge("first", "join")
        .edge("second", "join")
        .enqueue()
        .await
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("wrongtype"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        runs(&env, "first").await,
        0,
        "a root ran although the workflow was not placed"
    );
    assert_eq!(runs(&env, "join").await, 0);
    let admin = client.admin();
    let default = admin.queue("default").await.unwrap();
    assert_eq!((default.waiting, default.ready), (0, 0), "{default:?}");
    let listed = admin
        .list_workflows(Some("default"), None, None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    stop(workers);
}

/// Two operators retrying the same failed node at once enqueue it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_retries_of_the_same_node_at_once_enqueue_it_once() {
    let env = test_redis("wf-retry-race").await;
    break_step(&env, "only", true).await;
    let workers = workers(&env);
    let client = env.client();
    let id = client
        .workflow("race")
        .node("only", client.job(step(&env, "only", 1)))
        .enqueue()
        .await
        .unwrap();
    assert_eq!(
        settled(&client, id).await.summary.state,
        WorkflowState::Failed
    );
    break_step(&env, "only", false).await;
    let (a, b) = tokio::join!(
        client.retry_workflow_from(id, "only"),
        client.retry_workflow_from(id, "only")
    );
    let oks = [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count();
    assert_eq!(oks, 1, "{a:?} {b:?}");
    let err = a.err().or(b.err()).unwrap();
    // The loser is refused either way: while the winner resets the node
    // ("retried by someone else"), or after it did (the node is no longer
    // failed) — which of the two depends on timing.
    assert!(
        err.to_string().contains("retried by someone else")
            || err
                .to_string()
                .contains("only a failed, skipped or cancelled node can be retried"),
        "{err}"
    );
    assert_eq!(err.kind(), jobqueue_core::ErrorKind::Conflict, "{err}");
    let status = settled(&client, id).await;
    assert_eq!(status.summary.state, WorkflowState::Succeeded);
    assert_eq!(runs(&env, "only").await, 1);
    stop(workers);
}

/// Two operators retrying different nodes on the same path at once (X,
/// and Y downstream of it) never place a node twice: retries of one
/// workflow are serialized by the record's generation, so one claims it
/// and the other fails before changing anything; Y runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_retries_from_nodes_on_one_path_place_each_node_once() {
    let env = test_redis("wf-retry-path").await;
    break_step(&env, "x", true).await;
    let workers = workers(&env);
    let client = env.client();
    let id = client
        .workflow("path race")
        .node("x", client.job(step(&env, "x", 1)))
        .node("y", client.job(step(&env, "y", 1)).queue("other"))
        .node("z", client.job(step(&env, "z", 1)))
        .edge_with("x", "y", OnParentFailure::Skip)
        .edge("y", "z")
        .enqueue()
        .await
        .unwrap();
    let status = settled(&client, id).await;
    assert_eq!(
        status.node("y").unwrap().state,
        NodeState::Skipped,
        "{status:#?}"
    );
    break_step(&env, "x", false).await;
    let (a, b) = tokio::join!(
        client.retry_workflow_from(id, "x"),
        client.retry_workflow_from(id, "y")
    );
    let oks = [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count();
    assert_eq!(oks, 1, "{a:?} {b:?}");
    let status = settled(&client, id).await;
    assert_eq!(status.summary.retries, 1, "{status:#?}");
    if a.is_ok() {
        assert_eq!(
            status.summary.state,
            WorkflowState::Succeeded,
            "{status:#?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(runs(&env, "y").await <= 1);
    assert!(runs(&env, "z").await <= 1);
    let admin = client.admin();
    for queue in ["default", "other"] {
        let info = admin.queue(queue).await.unwrap();
        assert_eq!((info.waiting, info.ready), (0, 0), "{info:?}");
    }
    stop(workers);
}

/// The skip policy and per-parent policies work for plain chains too: a
/// dependent whose parent died under `Skip` never runs and is nowhere,
/// its records say `skipped`; a per-parent `Run` edge beside a `Skip` one
/// on another parent that succeeded runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_with_the_skip_policy_skips_and_per_parent_policies_apply() {
    let env = test_redis("chain-skip").await;
    break_step(&env, "dies", true).await;
    let workers = workers(&env);
    let client = env.client();
    let dies = client
        .job(step(&env, "dies", 1))
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let lives = client
        .job(step(&env, "lives", 2))
        .queue("other")
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let skipped = client
        .job(step(&env, "skipped", 0))
        .after(dies)
        .on_parent_failure(OnParentFailure::Skip)
        .with_dependents()
        .enqueue()
        .await
        .unwrap();
    let mixed = client
        .job(step(&env, "mixed", 0))
        .after_with(("default", dies), OnParentFailure::Run)
        .after_with(("other", lives), OnParentFailure::Skip)
        .track()
        .enqueue()
        .await
        .unwrap();
    let sum: Option<i64> = client
        .wait_result(mixed, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(sum, Some(2), "ran with the live parent's result only");
    let mut conn = env.connection().await.unwrap();
    let parent_key = format!("{}:{{default}}:parent:{skipped}", env.prefix());
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut conn = conn.clone();
            let key = parent_key.clone();
            async move {
                conn.hget::<_, _, Option<String>>(&key, "state")
                    .await
                    .unwrap()
                    .as_deref()
                    == Some("skipped")
            }
        })
        .await
    );
    let left: Option<String> = conn
        .hget(
            format!("{}:{{default}}:deps:{skipped}", env.prefix()),
            "left",
        )
        .await
        .unwrap();
    assert_eq!(left.as_deref(), Some("skipped"));
    assert_eq!(runs(&env, "skipped").await, 0);
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!(
        (info.waiting, info.dead),
        (0, 1),
        "only the dead parent is in the dead set"
    );
    stop(workers);
}

/// A worker SIGKILLed while a workflow's parent runs: the parent runs
/// again on the other worker, its result is recorded with its success,
/// and the dependent reads it once (the dependent runs once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_whose_worker_is_killed_still_hands_its_result_on() {
    let env = test_redis("wf-sigkill").await;
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.queues = "default,other".to_owned();
    spec.lease_ms = 1000;
    let victim = WorkerProcess::start(WORKER, &spec);
    let client = env.client();
    let mut slow = step(&env, "slow", 5);
    slow.sleep_ms = 1500;
    let id = client
        .workflow("killed")
        // A lost run counts as an attempt: leave room for the second.
        .node("slow", client.job(slow).max_attempts(3))
        .node("after", client.job(step(&env, "after", 100)).queue("other"))
        .edge("slow", "after")
        .enqueue()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            client
                .workflow_status(id)
                .await
                .unwrap()
                .node("slow")
                .unwrap()
                .state
                == NodeState::Running
        })
        .await
    );
    victim.kill();
    let survivor = WorkerProcess::start(WORKER, &spec);
    let status = settled(&client, id).await;
    assert_eq!(
        status.summary.state,
        WorkflowState::Succeeded,
        "{status:#?}"
    );
    assert_eq!(
        runs(&env, "slow").await,
        1,
        "finished once (the killed run never did)"
    );
    assert_eq!(runs(&env, "after").await, 1);
    assert_eq!(
        seen(&env, "after").await.as_deref(),
        Some(r#"[["succeeded",5]]"#)
    );
    survivor.terminate();
    assert!(survivor.wait(Duration::from_secs(10)));
}
