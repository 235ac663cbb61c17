//! The ready watch (`loops/ready_watcher.rs`): an idle worker waits in a
//! blocking move on the ready list, so a pushed job reaches it without the
//! producer's published wake-up; pause still holds, and a paused queue's
//! backlog does not make the watch loop.

use std::time::{Duration, Instant};

use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::raw_push;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_redis_on, test_worker};
use jobqueue_testing::{TestRedis, eventually};

/// Pushes `job` onto the default queue's ready list with no published
/// wake-up (a foreign producer, or a wake-up lost); returns its id.
async fn push_without_wake_up(env: &TestRedis, job: &TestJob) -> String {
    let keys = env.client().store().queue_keys("default").unwrap();
    raw_push::push_without_wake_up(&mut env.connection().await.unwrap(), &keys, job)
        .await
        .to_string()
}

/// Calls of `command` the server has served so far.
async fn command_calls(env: &TestRedis, command: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_get_a_job_pushed_without_a_wake_up_at_once() {
    let env = test_redis("watch-one-hop").await;
    // So slow a fallback poll that only the watch can find the jobs.
    let workers = [
        test_worker(&env)
            .idle_poll_interval(Duration::from_secs(120))
            .start()
            .await
            .unwrap(),
        test_worker(&env)
            .idle_poll_interval(Duration::from_secs(120))
            .start()
            .await
            .unwrap(),
    ];
    // Both workers drain the queue once: they know it empty and watch it.
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut ids = Vec::new();
    for _ in 0..5 {
        let pushed = Instant::now();
        let id = push_without_wake_up(&env, &env.test_job()).await;
        let ran = eventually(Duration::from_secs(5), || async {
            env.done().await.contains_key(&id)
        })
        .await;
        assert!(
            ran,
            "a job pushed without a wake-up waited for the idle poll (120 s)"
        );
        assert!(
            pushed.elapsed() < Duration::from_secs(2),
            "the watch took {:?}",
            pushed.elapsed()
        );
        ids.push(id);
    }
    // The operator API (and the dashboard's Workers page) show the watch.
    for info in env.client().admin().workers().await.unwrap() {
        assert_eq!(info.watching, ["default"], "{info:?}");
    }
    for worker in workers {
        worker.shutdown().await;
    }
    let done = env.done().await;
    for id in &ids {
        assert_eq!(done.get(id), Some(&1), "job {id} ran once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_watch_a_job_pushed_without_a_wake_up_waits_for_the_poll() {
    let env = test_redis("watch-off").await;
    let worker = test_worker(&env)
        .idle_poll_interval(Duration::from_secs(120))
        .watch_ready(false)
        .start()
        .await
        .unwrap();
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shown = env.client().admin().workers().await.unwrap();
    assert!(shown[0].watching.is_empty(), "{shown:?}");
    let id = push_without_wake_up(&env, &env.test_job()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !env.done().await.contains_key(&id),
        "with the watch off only a wake-up or the poll finds the job"
    );
    // The wake-up a producer would have published makes the worker look.
    let keys = env.client().store().queue_keys("default").unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(keys.events())
        .arg("r")
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_queue_stays_paused_under_the_watch_and_its_backlog_costs_no_loop() {
    // A private server: its command counts are this test's alone.
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "watch-pause").await;
    let worker = test_worker(&env)
        .idle_poll_interval(Duration::from_secs(120))
        .start()
        .await
        .unwrap();
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Paused while the worker watches; then a backlog arrives.
    env.client().admin().pause("default").await.unwrap();
    let before = (
        command_calls(&env, "blmove").await,
        command_calls(&env, "evalsha").await,
    );
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(push_without_wake_up(&env, &env.test_job()).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = (
        command_calls(&env, "blmove").await,
        command_calls(&env, "evalsha").await,
    );
    let done = env.done().await;
    assert!(
        held.iter().all(|id| !done.contains_key(id)),
        "a job of a paused queue ran"
    );
    // One wait served by the first push, one fetch that found the queue
    // paused and armed nothing; a loop would make thousands in the second.
    assert!(
        after.0 - before.0 <= 1 && after.1 - before.1 <= 20,
        "the watch looped over a paused queue: {} BLMOVE and {} script calls in 1 s",
        after.0 - before.0,
        after.1 - before.1
    );

    env.client().admin().resume("default").await.unwrap();
    assert!(env.wait_done(4, Duration::from_secs(10)).await);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_without_blmove_stops_the_watch_and_the_wake_up_still_serves() {
    // A private server: the ACL user is server-wide.
    let server = RedisServer::start();
    let admin_env = test_redis_on(&server.url(), "watch-acl").await;
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("nowatch")
        .arg("on")
        .arg(">secret")
        .arg("~*")
        .arg("&*")
        .arg("+@all")
        .arg("-@dangerous")
        .arg("-blmove")
        .query_async(&mut admin_env.connection().await.unwrap())
        .await
        .unwrap();
    let url = server.url().replace("redis://", "redis://nowatch:secret@");
    let env = test_redis_on(&url, "watch-acl").await;
    let worker = test_worker(&env)
        .heartbeat_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    // The drained queue armed the watch; Redis refused it; the worker
    // says so and keeps serving jobs through the published wake-up.
    let unwatched = eventually(Duration::from_secs(5), || async {
        let workers = env.client().admin().workers().await.unwrap();
        workers.len() == 1 && workers[0].watching.is_empty()
    })
    .await;
    assert!(unwatched, "the worker still reports a watch Redis refuses");
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);
    worker.shutdown().await;
}
