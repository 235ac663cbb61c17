//! Wake-ups are hints: a job whose "work arrived" message never reached a
//! worker (the producer's reply or publish was lost in an outage, a
//! failover, a cut connection) is still picked up promptly — never left
//! waiting while the worker is busy with other queues, and looked for at
//! once when Redis answers again after an outage. The workers here do not
//! watch their ready lists (`watch_ready(false)`; tests/ready_watch.rs),
//! which would find such jobs first: these are the fallbacks behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jobqueue_core::Job;
use jobqueue_core::wire::record::{Envelope, encode_record};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::raw_push;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_redis_on, test_worker};
use jobqueue_testing::{TestRedis, eventually};

/// A job pushed onto `queue` with no wake-up: what Redis holds after an
/// enqueue whose reply (and so its wake-up publish) was lost.
async fn push_without_wake_up(env: &TestRedis, queue: &str, job: &TestJob) -> uuid::Uuid {
    let keys = env.client().store().queue_keys(queue).unwrap();
    raw_push::push_without_wake_up(&mut env.connection().await.unwrap(), &keys, job).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_wake_up_cannot_starve_a_queue_while_others_keep_the_worker_busy() {
    let env = Arc::new(test_redis("starved-queue").await);
    // A long lease: its routine reconciliation (which fetches every queue)
    // must not be what finds the job.
    let worker = test_worker(&env)
        .watch_ready(false)
        .queues(["busy", "quiet"])
        .idle_poll_interval(Duration::from_millis(300))
        .lease(Duration::from_secs(20))
        .start()
        .await
        .unwrap();
    // Both queues drained once: the worker knows them empty.
    env.client()
        .job(env.test_job())
        .queue("busy")
        .enqueue()
        .await
        .unwrap();
    env.client()
        .job(env.test_job())
        .queue("quiet")
        .enqueue()
        .await
        .unwrap();
    assert!(env.wait_done(2, Duration::from_secs(10)).await);

    // Work keeps arriving on `busy`, each job with its wake-up, while the
    // wake-up of a job on `quiet` is lost.
    let producing = Arc::new(AtomicBool::new(true));
    let producer = tokio::spawn({
        let (env, producing) = (Arc::clone(&env), Arc::clone(&producing));
        async move {
            while producing.load(Ordering::Relaxed) {
                env.client()
                    .job(env.test_job())
                    .queue("busy")
                    .enqueue()
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let starved = push_without_wake_up(&env, "quiet", &env.test_job()).await;
    let ran = eventually(Duration::from_secs(4), || async {
        env.done().await.contains_key(&starved.to_string())
    })
    .await;
    producing.store(false, Ordering::Relaxed);
    producer.await.unwrap();
    worker.shutdown().await;
    assert!(
        ran,
        "a job whose wake-up was lost waited while other queues kept the worker busy \
         (the idle poll is 300 ms)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_stalls_the_worker_looks_at_every_queue_at_once() {
    let server = RedisServer::start();
    let mut env = test_redis_on(&server.url(), "stalled-redis").await;
    env.reconnect_with(
        env.client_config()
            .response_timeout(Duration::from_millis(400)),
    )
    .await
    .unwrap();
    // So slow a fallback poll that only noticing the outage can find the job.
    let worker = test_worker(&env)
        .watch_ready(false)
        .idle_poll_interval(Duration::from_secs(120))
        .lease(Duration::from_secs(10))
        .heartbeat_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);

    // Redis stops answering; an enqueue sent meanwhile waits in its socket
    // and runs when it thaws, after its producer gave up (no wake-up).
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30)));
    let mut raw = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    let job = env.test_job();
    let envelope = Envelope::new(TestJob::NAME);
    let record = encode_record(&envelope, &serde_json::to_vec(&job).unwrap()).unwrap();
    let ready_key = env
        .client()
        .store()
        .queue_keys("default")
        .unwrap()
        .ready()
        .to_owned();
    server.freeze();
    let push = tokio::spawn(async move {
        redis::cmd("RPUSH")
            .arg(ready_key)
            .arg(record)
            .query_async::<i64>(&mut raw)
            .await
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.thaw();
    assert_eq!(
        push.await.unwrap().unwrap(),
        1,
        "the push ran after the thaw"
    );
    let stranded = envelope.id;
    let ran = eventually(Duration::from_secs(8), || async {
        env.done().await.contains_key(&stranded.to_string())
    })
    .await;
    worker.shutdown().await;
    assert!(
        ran,
        "a job that arrived without a wake-up during an outage waited for the idle poll"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_outage_a_worker_backing_off_fetches_once_redis_answers() {
    let server = RedisServer::start();
    let mut env = test_redis_on(&server.url(), "backoff-cut").await;
    env.reconnect_with(
        env.client_config()
            .response_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    // Fetches keep being tried (the periodic re-check) and failing while
    // Redis is frozen, so the fetcher's backoff grows to its cap (2.5-5 s).
    let worker = test_worker(&env)
        .watch_ready(false)
        .idle_poll_interval(Duration::from_millis(200))
        .lease(Duration::from_secs(30))
        .heartbeat_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    env.client().enqueue(env.test_job()).await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);

    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30)));
    let mut raw = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    let envelope = Envelope::new(TestJob::NAME);
    let record = encode_record(&envelope, &serde_json::to_vec(&env.test_job()).unwrap()).unwrap();
    let ready_key = env
        .client()
        .store()
        .queue_keys("default")
        .unwrap()
        .ready()
        .to_owned();
    server.freeze();
    let push = tokio::spawn(async move {
        redis::cmd("RPUSH")
            .arg(ready_key)
            .arg(record)
            .query_async::<i64>(&mut raw)
            .await
    });
    tokio::time::sleep(Duration::from_secs(9)).await;
    server.thaw();
    let thawed = std::time::Instant::now();
    push.await.unwrap().unwrap();
    let ran = eventually(Duration::from_secs(10), || async {
        env.done().await.contains_key(&envelope.id.to_string())
    })
    .await;
    let after = thawed.elapsed();
    worker.shutdown().await;
    assert!(ran);
    assert!(
        after < Duration::from_millis(2000),
        "the job ran {after:?} after Redis answered again: the fetcher waited out its backoff"
    );
}
