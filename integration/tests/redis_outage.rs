//! Redis goes away mid-run: producers get clear errors (not hangs),
//! workers back off, reconnect and carry on, and nothing acknowledged is
//! lost (with AOF persistence, as production Redis runs).

use std::time::{Duration, Instant};

use jobqueue_core::ErrorKind;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis_on, test_worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_recover_and_producers_get_errors_while_redis_is_down() {
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let env = test_redis_on(&server.url(), "outage").await;
    let worker = test_worker(&env).concurrency(5).start().await.unwrap();

    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(env.client().enqueue(env.test_job()).await.unwrap());
    }
    assert!(env.wait_done(20, Duration::from_secs(10)).await);

    // Enqueue jobs that will still be waiting when Redis dies.
    let admin = env.client().admin();
    admin.pause("default").await.unwrap();
    for _ in 0..20 {
        ids.push(env.client().enqueue(env.test_job()).await.unwrap());
    }
    server.kill();

    let started = Instant::now();
    let err = env.client().enqueue(env.test_job()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the error came in {:?}",
        started.elapsed()
    );
    // The first request may have been written before the client saw the
    // connection close: its outcome is unknown, not "not sent".
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Unavailable | ErrorKind::OutcomeUnknown
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("enqueue"),
        "the error names the operation: {err}"
    );
    // Once the client has seen the connection close, a refused reconnect
    // proves that nothing was sent. (redis-rs reports a request it could
    // not hand to a connection already closing as a broken pipe, like one
    // whose reply was lost: those stay "unknown".)
    let mut refused = None;
    for _ in 0..10 {
        let err = env.client().enqueue(env.test_job()).await.unwrap_err();
        match err.kind() {
            ErrorKind::Unavailable => {
                refused = Some(err);
                break;
            }
            ErrorKind::OutcomeUnknown => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{other:?}: {err}"),
        }
    }
    let refused = refused.expect("a refused connection is reported as not applied");
    assert!(!refused.outcome_unknown(), "{refused}");
    tokio::time::sleep(Duration::from_secs(1)).await;

    server.restart();
    // The producer reconnects by itself.
    let mut recovered = None;
    for _ in 0..50 {
        match env.client().enqueue(env.test_job()).await {
            Ok(id) => {
                recovered = Some(id);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    ids.push(recovered.expect("the producer reconnects"));
    admin.resume("default").await.unwrap();
    assert!(
        env.wait_done(41, Duration::from_secs(20)).await,
        "the worker reconnects and drains"
    );
    worker.shutdown().await;
    let done = env.done().await;
    for id in &ids {
        assert!(
            done.contains_key(&id.to_string()),
            "{id} acknowledged before the crash ran"
        );
    }
}
