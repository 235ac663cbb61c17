//! The producer's direct lane (jobqueue-core/src/store/conn/direct_lane.rs):
//! single awaited enqueues go over their own plain connection, which
//! authenticates and selects the database like the shared one, comes back
//! after Redis drops it, serves concurrent producers alongside the shared
//! connection, and is not used when producers wait for replicas; a single
//! idempotent enqueue (a script whose reply is an array) goes over it too.

use std::time::Duration;

use futures_util::future::join_all;
use jobqueue_core::{Client, ClientConfig, Error, UniqueOutcome};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{RedisServer, test_redis_on};
use redis::aio::MultiplexedConnection;

const PASSWORD: &str = "lane-pass";

/// The `CLIENT LIST` lines of the lane's connections.
async fn lane_clients(admin: &mut MultiplexedConnection) -> Vec<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(admin)
        .await
        .unwrap();
    list.lines()
        .filter(|line| line.contains(" name=jobqueue-direct "))
        .map(str::to_owned)
        .collect()
}

fn client_id(line: &str) -> String {
    line.split_whitespace()
        .find_map(|field| field.strip_prefix("id="))
        .expect("CLIENT LIST has ids")
        .to_owned()
}

async fn ready_length(admin: &mut MultiplexedConnection, prefix: &str) -> i64 {
    redis::cmd("LLEN")
        .arg(format!("{prefix}:{{default}}:ready"))
        .query_async(admin)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lane_authenticates_selects_the_database_reconnects_and_never_blocks_others() {
    let server = RedisServer::start();
    // The test's prefix; the clients under test are made here, as users
    // make them (an ACL user, database 3), and the lane closes with them.
    let env = test_redis_on(&server.url(), "lane").await;
    let prefix = env.prefix().to_owned();
    let mut admin = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("producer")
        .arg("on")
        .arg(format!(">{PASSWORD}"))
        .arg(format!("~{prefix}*"))
        .arg(format!("&{prefix}*"))
        .arg("+@all")
        .arg("-@dangerous")
        .query_async(&mut admin)
        .await
        .unwrap();
    let url = format!("redis://producer:{PASSWORD}@127.0.0.1:{}/3", server.port());
    let client = Client::with_config(ClientConfig::new(&url).prefix(&prefix))
        .await
        .unwrap();

    // Awaited one at a time: they go over the lane, as user `producer`,
    // into database 3.
    for n in 0..10 {
        client.enqueue(NoopJob { n }).await.unwrap();
    }
    let lanes = lane_clients(&mut admin).await;
    assert_eq!(lanes.len(), 1, "{lanes:?}");
    assert!(lanes[0].contains(" user=producer "), "{}", lanes[0]);
    assert!(lanes[0].contains(" db=3 "), "{}", lanes[0]);
    let _: () = redis::cmd("SELECT")
        .arg(3)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(ready_length(&mut admin, &prefix).await, 10);

    // Redis drops the lane's connection while it is idle: the next enqueue
    // is not lost, and the lane comes back on a new connection.
    let killed = client_id(&lanes[0]);
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&killed)
        .query_async(&mut admin)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in 10..20 {
        client.enqueue(NoopJob { n }).await.unwrap();
    }
    assert_eq!(ready_length(&mut admin, &prefix).await, 20);
    let lanes = lane_clients(&mut admin).await;
    assert_eq!(lanes.len(), 1, "{lanes:?}");
    assert_ne!(client_id(&lanes[0]), killed, "a new lane connection");

    // Many producers at once: one holds the lane, the rest go over the
    // shared connection instead of queueing behind it.
    let tasks = (20..520).map(|n| {
        let client = client.clone();
        tokio::spawn(async move { client.enqueue(NoopJob { n }).await })
    });
    for result in join_all(tasks).await {
        result.unwrap().unwrap();
    }
    assert_eq!(ready_length(&mut admin, &prefix).await, 520);
    assert_eq!(lane_clients(&mut admin).await.len(), 1);

    // A producer that waits for replicas sends everything over the shared
    // connection: `WAIT` covers only the writes of the connection sending it.
    drop(client);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        lane_clients(&mut admin).await.is_empty(),
        "the lane closes with its client"
    );
    let waiting = Client::with_config(
        ClientConfig::new(&url)
            .prefix(&prefix)
            .wait_for_replicas(0, Duration::from_millis(100)),
    )
    .await
    .unwrap();
    waiting.enqueue(NoopJob { n: 520 }).await.unwrap();
    assert_eq!(ready_length(&mut admin, &prefix).await, 521);
    assert!(lane_clients(&mut admin).await.is_empty());
}

/// A single idempotent enqueue (`enqueue_idempotent.lua`, whose reply is
/// the array `{status, id}`) goes over the lane: also right after Redis
/// forgot the script (the lane's `NOSCRIPT` loads it and the call is
/// repeated), with every answer (enqueued, exists, conflict, a given id
/// taken) read from the lane; one-line replies still work after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_enqueues_go_over_the_lane() {
    const HOUR: Duration = Duration::from_secs(3600);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "lane-idem").await;
    let prefix = env.prefix().to_owned();
    let mut admin = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let client = Client::with_config(ClientConfig::new(server.url()).prefix(&prefix))
        .await
        .unwrap();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut admin)
        .await
        .unwrap();
    let lane_ran = |lanes: Vec<String>, cmd: &str| {
        assert_eq!(lanes.len(), 1, "{lanes:?}");
        assert!(lanes[0].contains(&format!(" cmd={cmd} ")), "{}", lanes[0]);
    };

    let id = client
        .job(NoopJob { n: 1 })
        .idempotency_key("order-1", HOUR)
        .enqueue()
        .await
        .unwrap();
    lane_ran(lane_clients(&mut admin).await, "evalsha");
    let again = client
        .job(NoopJob { n: 1 })
        .idempotency_key("order-1", HOUR)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(again, UniqueOutcome::Exists { existing: id });
    let conflict = client
        .job(NoopJob { n: 2 })
        .idempotency_key("order-1", HOUR)
        .enqueue()
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, Error::IdempotencyConflict { original, .. } if original == id),
        "{conflict:?}"
    );
    let given = uuid::Uuid::now_v7();
    client
        .job(NoopJob { n: 3 })
        .id(given)
        .idempotency_key("order-3", HOUR)
        .enqueue()
        .await
        .unwrap();
    let taken = client
        .job(NoopJob { n: 4 })
        .id(given)
        .idempotency_key("order-4", HOUR)
        .enqueue()
        .await
        .unwrap_err();
    assert!(
        matches!(taken, Error::DuplicateId { id, .. } if id == given),
        "{taken:?}"
    );
    lane_ran(lane_clients(&mut admin).await, "evalsha");

    // A prioritised job takes the general script (`enqueue_idempotent.lua`),
    // over the lane too; the plain ones above took the fast path.
    let prioritised = client
        .job(NoopJob { n: 6 })
        .priority(2)
        .idempotency_key("order-6", HOUR)
        .enqueue()
        .await
        .unwrap();
    let again = client
        .job(NoopJob { n: 6 })
        .priority(2)
        .idempotency_key("order-6", HOUR)
        .enqueue_unique()
        .await
        .unwrap();
    assert_eq!(
        again,
        UniqueOutcome::Exists {
            existing: prioritised
        }
    );
    lane_ran(lane_clients(&mut admin).await, "evalsha");

    client.enqueue(NoopJob { n: 5 }).await.unwrap();
    lane_ran(lane_clients(&mut admin).await, "rpush");
    assert_eq!(ready_length(&mut admin, &prefix).await, 3);
}
