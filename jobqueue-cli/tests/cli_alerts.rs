//! `jobqueue alerts list|test` and the evaluator of `jobqueue serve`,
//! against real Redis and a local webhook receiver: a test firing reaches
//! the sink and shows in the list; an unknown rule is not found (exit 3);
//! a bad alert file is a usage error (exit 2) that names the field; a
//! serving dashboard evaluates its rules and sends what fires.

use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use jobqueue_core::{Job, JobContext, JobError};
use jobqueue_testing::TestRedis;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Ping {
    n: u64,
}

impl Job for Ping {
    const NAME: &'static str = "ping";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

type Bodies = Arc<Mutex<Vec<serde_json::Value>>>;

/// A webhook receiver on a free loopback port: its URL and what it got.
async fn receiver() -> (String, Bodies) {
    async fn hook(State(bodies): State<Bodies>, body: Bytes) -> &'static str {
        if let Ok(json) = serde_json::from_slice(&body) {
            bodies.lock().unwrap().push(json);
        }
        "ok"
    }
    let bodies = Bodies::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(bodies.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, bodies)
}

/// An alert file with one sink at `url` and `rules`, in the temp dir.
fn alert_file(t: &TestRedis, url: &str, rules: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-alerts.json", t.prefix()));
    std::fs::write(
        &path,
        format!(
            r#"{{"interval_secs": 0.2, "lease_secs": 2,
                 "sinks": [{{"name": "ops", "url": "{url}", "secret": "k"}}],
                 "rules": [{rules}]}}"#
        ),
    )
    .unwrap();
    path
}

fn command(t: &TestRedis, file: Option<&std::path::Path>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobqueue"));
    command
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env_remove("JOBQUEUE_CONFIG")
        .env_remove("JOBQUEUE_ALERTS_RULES")
        .env_remove("JOBQUEUE_ALERTS_WEBHOOK_URL")
        .stdin(Stdio::null());
    match file {
        Some(path) => command.env("JOBQUEUE_ALERTS_FILE", path),
        None => command.env_remove("JOBQUEUE_ALERTS_FILE"),
    };
    command
}

fn run(t: &TestRedis, file: Option<&std::path::Path>, args: &[&str]) -> Output {
    command(t, file).args(args).output().expect("run jobqueue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_list_and_test_fire_reach_the_sink() {
    let t = TestRedis::named("cli-alerts").await.expect("test Redis");
    let (url, bodies) = receiver().await;

    let bare = run(&t, None, &["alerts", "list", "--json"]);
    assert!(
        bare.status.success(),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    let bare: serde_json::Value = serde_json::from_slice(&bare.stdout).unwrap();
    assert_eq!(bare["configured"], false);

    let file = alert_file(
        &t,
        &url,
        r#"{"name": "dead jobs", "kind": "dead_rate", "per_minute": 5}"#,
    );
    let test = run(&t, Some(&file), &["alerts", "test", "dead jobs"]);
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(String::from_utf8_lossy(&test.stdout).contains("ops: sent"));
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["test"], true);
    assert_eq!(got[0]["rule"], "dead jobs");

    let list = run(&t, Some(&file), &["alerts", "list"]);
    let table = String::from_utf8_lossy(&list.stdout);
    assert!(table.starts_with("RULE"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("dead jobs") && l.contains("dead_rate")),
        "{table}"
    );
    let json = run(&t, Some(&file), &["alerts", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["rules"][0]["fired"], 1);
    assert_eq!(json["rules"][0]["last_delivery"], "ops: sent");
    assert!(
        !json.to_string().contains("/hook"),
        "the URL is a credential"
    );

    let unknown = run(&t, Some(&file), &["alerts", "test", "nope"]);
    assert_eq!(unknown.status.code(), Some(3));

    let bad = alert_file(&t, &url, r#"{"name": "x", "kind": "latency_slo"}"#);
    let refused = run(&t, Some(&bad), &["alerts", "list"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("max_latency_secs is required"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_dashboard_evaluates_its_rules() {
    let t = TestRedis::named("cli-alerts-serve")
        .await
        .expect("test Redis");
    let (url, bodies) = receiver().await;
    t.client().enqueue(Ping { n: 1 }).await.unwrap();
    let file = alert_file(
        &t,
        &url,
        r#"{"name": "slow default", "kind": "latency_slo", "queue": "default", "max_latency_secs": 0.2}"#,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut serve = command(&t, Some(&file))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run jobqueue serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while bodies.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = serve.kill();
    let _ = serve.wait();
    let _ = std::fs::remove_file(file);
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["rule"], "slow default");
    assert_eq!(got[0]["fingerprint"], "latency:default");
    assert_eq!(got[0]["test"], false);
}

/// The pid part of an evaluator id (`<pid>-<random>`).
fn leader_pid(t: &TestRedis, file: &std::path::Path) -> Option<u32> {
    let out = run(t, Some(file), &["alerts", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    json["leader"].as_str()?.split('-').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leading_dashboard_is_killed_another_takes_over() {
    let t = TestRedis::named("cli-alerts-failover")
        .await
        .expect("test Redis");
    let (url, _bodies) = receiver().await;
    let file = alert_file(&t, &url, r#"{"name": "r", "kind": "new_error"}"#);
    let serve = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        command(&t, Some(&file))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run jobqueue serve")
    };
    let mut servers = vec![serve(), serve()];
    let wait_for_leader = |among: Vec<u32>| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(pid) = leader_pid(&t, &file).filter(|pid| among.contains(pid)) {
                return Some(pid);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let pids: Vec<u32> = servers.iter().map(std::process::Child::id).collect();
    let first = wait_for_leader(pids.clone()).expect("one of the two leads");
    // SIGKILL the leader: no chance to hand over; its lease (2 s) lapses.
    let index = pids.iter().position(|pid| *pid == first).unwrap();
    let mut killed = servers.remove(index);
    killed.kill().unwrap();
    killed.wait().unwrap();
    let other = pids[1 - index];
    let second = wait_for_leader(vec![other]);
    for mut server in servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    let _ = std::fs::remove_file(file);
    assert_eq!(second, Some(other), "the surviving dashboard took over");
}
