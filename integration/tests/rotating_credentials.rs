//! Rotating credentials: a private `redis-server` whose only usable login
//! is an ACL user the test gives a new password every ~2 s, keeping the
//! old one valid for a short overlap (as cloud IAM tokens do) and then
//! removing it. A producer logs in with an IAM-token-style provider
//! (credentials that expire) and two in-process workers with the file
//! provider (the Kubernetes mounted-secret pattern) while jobs flow.
//!
//! Nothing may fail or be lost: 0 failed enqueues, every job run exactly
//! once, no `WRONGPASS` on the server (every connect used live
//! credentials), and the connections open at the start are still open at
//! the end, having re-`AUTH`ed on the way (the server counts more `AUTH`s
//! than connections).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use jobqueue_core::credentials::{
    Credentials, CredentialsError, CredentialsFuture, CredentialsProvider, FileCredentials,
    StaticCredentials,
};
use jobqueue_core::{Client, ClientConfig};
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_worker};

const USER: &str = "app";
const ADMIN_PASSWORD: &str = "admin-secret-for-tests";
const ROTATE_EVERY: Duration = Duration::from_secs(2);
/// How long an old password keeps working after a new one was added.
const OVERLAP: Duration = Duration::from_secs(1);
const ROTATIONS: usize = 5;

/// The password the server accepts now, and when it stops accepting it.
#[derive(Debug, Clone)]
struct Token {
    password: String,
    expires: SystemTime,
}

/// An IAM-style provider: hands out the current token with its expiry.
#[derive(Clone)]
struct TokenService(Arc<Mutex<Token>>);

impl CredentialsProvider for TokenService {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async {
            let token = self
                .0
                .lock()
                .map_err(|_| CredentialsError::Provider("token lock poisoned".into()))?
                .clone();
            Ok(Credentials::new(USER, token.password).valid_until(token.expires))
        })
    }
}

async fn admin_query<T: redis::FromRedisValue>(
    conn: &mut redis::aio::MultiplexedConnection,
    args: &[&str],
) -> T {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(conn).await.unwrap()
}

/// `field` of a line `prefix…` of an `INFO` section, e.g. `calls` of
/// `cmdstat_auth:calls=3,usec=…`.
fn info_field(info: &str, line_prefix: &str, field: &str) -> u64 {
    info.lines()
        .find_map(|line| line.strip_prefix(line_prefix))
        .and_then(|rest| {
            rest.split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The ids of the rotated user's connections, and how many of them are
/// subscribed (the workers' wake-up connections).
async fn app_connections(conn: &mut redis::aio::MultiplexedConnection) -> (HashSet<String>, usize) {
    let list: String = admin_query(conn, &["CLIENT", "LIST"]).await;
    let user = format!(" user={USER} ");
    let lines: Vec<&str> = list.lines().filter(|line| line.contains(&user)).collect();
    let ids = lines
        .iter()
        .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_owned)
        .collect();
    let subscribed = lines
        .iter()
        .filter(|line| {
            line.split(' ')
                .any(|f| f.starts_with("sub=") && f != "sub=0")
        })
        .count();
    (ids, subscribed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_passwords_fail_no_enqueue_lose_no_job_and_live_connections_re_auth() {
    let server = RedisServer::start();
    let mut admin = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // Only two logins: an admin for the test, and the rotated user.
    let admin_pass = format!(">{ADMIN_PASSWORD}");
    let _: () = admin_query(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "admin",
            "on",
            &admin_pass,
            "~*",
            "&*",
            "+@all",
        ],
    )
    .await;
    let _: () = admin_query(&mut admin, &["AUTH", "admin", ADMIN_PASSWORD]).await;
    let _: () = admin_query(&mut admin, &["ACL", "SETUSER", "default", "off"]).await;

    // Traces go to the shared test Redis; the queue lives on the private server.
    let mut env = test_redis("rotating-creds").await;
    let prefix = env.prefix().to_owned();
    let first = "password-0".to_owned();
    let _: () = admin_query(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            USER,
            "on",
            &format!(">{first}"),
            &format!("~{prefix}*"),
            &format!("&{prefix}*"),
            "+@all",
            "-@dangerous",
        ],
    )
    .await;
    let secret_file =
        std::env::temp_dir().join(format!("jq-rotating-{}-{prefix}", std::process::id()));
    std::fs::write(&secret_file, format!("{first}\n")).unwrap();
    let token = Arc::new(Mutex::new(Token {
        password: first.clone(),
        // Removed one rotation after the loop below starts.
        expires: SystemTime::now() + ROTATE_EVERY,
    }));

    // Workers: the file provider, re-read every 300 ms.
    let file_provider =
        FileCredentials::new(USER, &secret_file).refresh_every(Duration::from_millis(300));
    env.reconnect_with(ClientConfig::new(server.url()).credentials_provider(file_provider))
        .await
        .expect("connect with the file provider");
    let workers = [
        test_worker(&env).start().await.unwrap(),
        test_worker(&env).start().await.unwrap(),
    ];
    // Producer: the IAM-style provider (re-AUTH at 3/4 of the token's life).
    let producer = Client::with_config(
        ClientConfig::new(server.url())
            .prefix(&prefix)
            .credentials_provider(TokenService(Arc::clone(&token))),
    )
    .await
    .expect("connect with the token provider");

    let info: String = admin_query(&mut admin, &["INFO", "all"]).await;
    let connections_before = parse_plain(&info, "total_connections_received:");
    let auths_before = info_field(&info, "cmdstat_auth:", "calls");
    // The workers' pub/sub connections log in too (they subscribe soon
    // after the workers start).
    let wait_until = Instant::now() + Duration::from_secs(5);
    let mut connections = app_connections(&mut admin).await;
    while connections.1 < 2 && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
        connections = app_connections(&mut admin).await;
    }
    let (ids_at_start, subscribed) = connections;
    assert_eq!(
        subscribed, 2,
        "the workers' pub/sub connections did not log in"
    );

    // Enqueue continuously while the password rotates.
    let producing = tokio::spawn({
        let producer = producer.clone();
        let job = env.test_job();
        async move {
            let (mut ids, mut failed) = (Vec::new(), Vec::new());
            let until = Instant::now() + ROTATE_EVERY * ROTATIONS as u32 + OVERLAP;
            while Instant::now() < until {
                match producer.enqueue(job.clone()).await {
                    Ok(id) => ids.push(id.to_string()),
                    Err(err) => failed.push(err.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (ids, failed)
        }
    });
    let mut current = first;
    for round in 1..=ROTATIONS {
        tokio::time::sleep(ROTATE_EVERY - OVERLAP).await;
        let next = format!("password-{round}");
        let _: () = admin_query(&mut admin, &["ACL", "SETUSER", USER, &format!(">{next}")]).await;
        std::fs::write(&secret_file, format!("{next}\n")).unwrap();
        *token.lock().unwrap() = Token {
            password: next.clone(),
            expires: SystemTime::now() + ROTATE_EVERY + OVERLAP,
        };
        tokio::time::sleep(OVERLAP).await;
        let _: () = admin_query(
            &mut admin,
            &["ACL", "SETUSER", USER, &format!("<{current}")],
        )
        .await;
        current = next;
    }
    let (ids, failed) = producing.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} enqueues failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(ids.len() > 100, "only {} jobs enqueued", ids.len());
    assert!(
        env.wait_done(ids.len(), Duration::from_secs(30)).await,
        "not every job ran"
    );

    // Every job ran exactly once: no lease was lost on the way.
    let done = env.done().await;
    let started = env.started().await;
    for id in &ids {
        assert_eq!(done.get(id), Some(&1), "job {id} done");
        assert_eq!(started.get(id), Some(&1), "job {id} started");
    }

    let info: String = admin_query(&mut admin, &["INFO", "all"]).await;
    let wrongpass = info_field(&info, "errorstat_WRONGPASS:", "count");
    assert_eq!(wrongpass, 0, "a connection used a revoked password");
    let connections = parse_plain(&info, "total_connections_received:") - connections_before;
    let auths = info_field(&info, "cmdstat_auth:", "calls") - auths_before;
    // A connection opened meanwhile sends at most 2 AUTHs (log-in, then
    // the refresher's first credentials); the live ones re-AUTHed on every
    // refresh (the workers' connections every 300 ms), far more.
    assert!(
        auths >= 2 * connections + 3 * ROTATIONS as u64,
        "{auths} AUTHs for {connections} new connections: live connections did not re-AUTH"
    );
    let survivors: Vec<_> = app_connections(&mut admin)
        .await
        .0
        .intersection(&ids_at_start)
        .cloned()
        .collect();
    assert!(
        survivors.len() >= 2,
        "connections did not survive the rotations: {survivors:?} of {ids_at_start:?}"
    );

    // The rotation really revokes: the first password no longer logs in.
    let stale = Client::with_config(
        ClientConfig::new(server.url())
            .prefix(&prefix)
            .connect_timeout(Duration::from_secs(1))
            .credentials_provider(StaticCredentials::new(USER, "password-0")),
    )
    .await;
    assert!(stale.is_err(), "a revoked password still logs in");

    for worker in workers {
        worker.shutdown().await;
    }
    eprintln!(
        "rotating credentials: {} jobs, {ROTATIONS} rotations, {auths} AUTHs, {connections} new connections, {} connections kept",
        ids.len(),
        survivors.len()
    );
    let _ = std::fs::remove_file(&secret_file);
    drop(server);
}

/// The number after `prefix` on its own `INFO` line.
fn parse_plain(info: &str, prefix: &str) -> u64 {
    info.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
