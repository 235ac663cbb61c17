//! Health probes of the worker (`/livez`, `/readyz`) and the producer's
//! W3C `traceparent` travelling in the envelope to the running job.

use std::time::Duration;

use jobqueue_core::{ErrorKind, Job, JobContext, JobError};
use jobqueue_integration::{RedisServer, test_redis, test_redis_on, test_worker};
use jobqueue_testing::eventually;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` on the worker's health endpoint: (status code, body).
async fn probe(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to probe");
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: worker\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_redis_and_shutdown_while_liveness_stays() {
    let mut redis = RedisServer::start();
    let env = test_redis_on(&redis.url(), "health").await;
    let worker = test_worker(&env)
        .heartbeat_interval(Duration::from_millis(200))
        .health_endpoint("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let addr = worker.health_addr().expect("health endpoint bound");
    assert_eq!(probe(addr, "/livez").await, (200, "ok\n".to_owned()));
    assert_eq!(probe(addr, "/readyz").await, (200, "ready\n".to_owned()));
    assert_eq!(probe(addr, "/nope").await.0, 404);

    redis.kill();
    assert!(
        eventually(Duration::from_secs(10), || async {
            probe(addr, "/readyz").await.0 == 503
        })
        .await,
        "not ready while Redis is down"
    );
    let (_, reason) = probe(addr, "/readyz").await;
    assert!(reason.contains("heartbeat"), "{reason}");
    assert_eq!(
        probe(addr, "/livez").await.0,
        200,
        "still alive: restarting would not help"
    );

    redis.restart();
    assert!(
        eventually(Duration::from_secs(10), || async {
            probe(addr, "/readyz").await.0 == 200
        })
        .await,
        "ready again once Redis is back"
    );
    worker.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the endpoint closes with the worker"
    );
}

/// Records the `traceparent` its run saw.
#[derive(Serialize, Deserialize)]
struct TracedJob {
    url: String,
    key: String,
}

impl Job for TracedJob {
    const NAME: &'static str = "traced";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let mut conn = redis::Client::open(self.url.as_str())?
            .get_multiplexed_async_connection()
            .await?;
        let seen = ctx.traceparent().unwrap_or("none").to_owned();
        conn.hset::<_, _, _, ()>(&self.key, ctx.id().to_string(), seen)
            .await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producers_traceparent_reaches_the_job() {
    let env = test_redis("traceparent").await;
    let key = format!("{}:seen", env.prefix());
    let job = || TracedJob {
        url: env.url().to_owned(),
        key: key.clone(),
    };
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let traced = env
        .client()
        .job(job())
        .traceparent(traceparent)
        .enqueue()
        .await
        .unwrap();
    let untraced = env.client().job(job()).enqueue().await.unwrap();
    let refused = env
        .client()
        .job(job())
        .traceparent("not-a-traceparent")
        .enqueue()
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);

    let worker = jobqueue_worker::Worker::builder(env.client())
        .register::<TracedJob>()
        .start()
        .await
        .unwrap();
    let mut conn = env.connection().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut conn = conn.clone();
            let key = key.clone();
            async move { conn.hlen::<_, usize>(&key).await.unwrap() == 2 }
        })
        .await
    );
    worker.shutdown().await;
    let seen: std::collections::HashMap<String, String> = conn.hgetall(&key).await.unwrap();
    assert_eq!(seen[&traced.to_string()], traceparent);
    assert_eq!(seen[&untraced.to_string()], "none");
}
