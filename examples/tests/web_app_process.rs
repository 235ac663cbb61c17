//! The web_app example as a user runs it: the binary against the test
//! Redis (its own key prefix), driven over HTTP, stopped with SIGTERM.
//! It serves, runs the report to its result, sends browsers to the
//! dashboard's sign-in page, and exits promptly once stopped.

use std::process::Stdio;
use std::time::{Duration, Instant};

use jobqueue::testing::TestRedis;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

/// `target/<profile>/examples/web_app`: `cargo test` builds the examples
/// beside the tests; a run filtered to this test builds it here.
fn example_binary() -> std::path::PathBuf {
    let test_exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = profile_dir.join("examples").join("web_app");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let built = std::process::Command::new(cargo)
            .args(["build", "-p", "jobqueue-examples", "--example", "web_app"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build --example web_app failed");
    }
    binary
}

/// One HTTP/1.1 request; the status code and body.
async fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("the app listens");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_serves_runs_its_jobs_and_exits_promptly_on_sigterm()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-process").await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut app = Command::new(example_binary())
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env("WEB_APP_ADDR", &addr)
        .env("ADMIN_PASSWORD", "a-test-password-of-16+")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let mut log = BufReader::new(app.stdout.take().expect("piped")).lines();
    while let Some(line) = log.next_line().await? {
        if line.contains("listening on") {
            break;
        }
    }

    assert_eq!(
        http(&addr, "POST", "/signup", "email=ada%40example.com")
            .await
            .0,
        202
    );
    let (status, body) = http(&addr, "POST", "/reports", "").await;
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body)?["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let (_, body) = http(&addr, "GET", &format!("/reports/{id}"), "").await;
        let report: serde_json::Value = serde_json::from_str(&body)?;
        if report["state"] == "succeeded" || Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(report["result"]["pages"], 5, "{report}");
    let (status, _) = http(&addr, "GET", "/admin/jobs/", "").await;
    assert_eq!(
        status, 303,
        "a browser is sent to the dashboard's sign-in page"
    );

    let pid = app.id().expect("running").to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()?;
    let stopping = Instant::now();
    let exit = tokio::time::timeout(Duration::from_secs(10), app.wait()).await??;
    let took = stopping.elapsed();
    assert!(exit.success(), "{exit}");
    // Nothing runs at this point (the cron cleanup may): the worker stops
    // at once and the process exits right after. Generous for a loaded CI.
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM to exit took {took:?}"
    );
    Ok(())
}
