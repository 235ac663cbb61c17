//! `jobqueue events` and `jobqueue history` through the real binary,
//! against real Redis: switching both on (written to the audit log),
//! listing a queue's events as lines and as NDJSON and resuming after one,
//! `--follow` printing what happens next, searching the history, and
//! exporting it: the registered export writes every entry once, moves the
//! cursor, and a second run writes nothing new.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

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

fn command(t: &TestRedis) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobqueue"));
    command
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env_remove("JOBQUEUE_CONFIG")
        .stdin(Stdio::null());
    command
}

fn run(t: &TestRedis, args: &[&str]) -> Output {
    let output = command(t).args(args).output().expect("run jobqueue");
    assert!(
        output.status.success(),
        "jobqueue {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn run_pings(t: &TestRedis, n: u64) {
    let client = t.client();
    for i in 0..n {
        client.enqueue(Ping { n: i }).await.unwrap();
    }
    let worker = t.worker().register::<Ping>().start().await.unwrap();
    let admin = client.admin();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while admin.queue("default").await.unwrap().ready > 0
        || admin.queue("default").await.unwrap().active > 0
    {
        assert!(std::time::Instant::now() < deadline, "the pings ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_listed_followed_and_resumed() {
    let t = TestRedis::named("cli-events").await.unwrap();
    t.client().enqueue(Ping { n: 0 }).await.unwrap(); // the queue exists
    t.client().admin().purge("default").await.unwrap();
    let on = stdout(&run(
        &t,
        &["events", "--queue", "default", "--enable", "--cap", "500"],
    ));
    assert_eq!(on.trim(), "default: events (500)");
    // This test's producer read the switch (off) at its first enqueue: it
    // trusts that for a second (SWITCH_REFRESH), as documented.
    tokio::time::sleep(jobqueue_core::store::commands::observe::SWITCH_REFRESH).await;
    run_pings(&t, 3).await;

    let lines = stdout(&run(&t, &["events", "--queue", "default"]));
    let kinds: Vec<&str> = lines
        .lines()
        .map(|line| line.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "enqueued").count(),
        3,
        "{lines}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "succeeded").count(),
        3,
        "{lines}"
    );
    let json = stdout(&run(&t, &["--json", "events", "--queue", "default"]));
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 9);
    let third = events[2]["id"].as_str().unwrap();
    let rest = stdout(&run(
        &t,
        &["--json", "events", "--queue", "default", "--from", third],
    ));
    assert_eq!(rest.lines().count(), 6);

    // --follow prints what happens next: from the last event listed, so
    // a follower slow to start (a loaded machine) misses nothing.
    let last = events[8]["id"].as_str().unwrap();
    let mut follow = command(&t)
        .args(["--json", "events", "--queue", "default", "--follow"])
        .args(["--from", last])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    run_pings(&t, 1).await;
    let mut reader = BufReader::new(follow.stdout.take().unwrap());
    let mut followed = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        followed.push(event["kind"].as_str().unwrap().to_owned());
    }
    follow.kill().unwrap();
    let _ = follow.wait();
    assert_eq!(followed, ["enqueued", "started", "succeeded"]);

    // Bad input is a usage error; switching off is audited too.
    let bad = command(&t)
        .args(["events", "--queue", "default", "--from", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let off = stdout(&run(&t, &["events", "--queue", "default", "--disable"]));
    assert_eq!(off.trim(), "default: nothing");
    let audit = t.client().admin().audit_log(None, 10).await.unwrap();
    assert!(audit.iter().filter(|e| e.action == "set_watch").count() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_searched_and_exported_once() {
    let t = TestRedis::named("cli-history").await.unwrap();
    t.client().enqueue(Ping { n: 0 }).await.unwrap();
    t.client().admin().purge("default").await.unwrap();
    run(
        &t,
        &["history", "--queue", "default", "enable", "--cap", "1000"],
    );
    run_pings(&t, 5).await;

    let found = stdout(&run(
        &t,
        &["--json", "history", "--queue", "default", "search"],
    ));
    let found: Vec<serde_json::Value> = serde_json::from_str(&found).unwrap();
    assert_eq!(found.len(), 5);
    assert!(
        found
            .iter()
            .all(|e| e["outcome"] == "succeeded" && e["job_type"] == "ping")
    );

    let file = std::env::temp_dir().join(format!("{}-history.ndjson", t.prefix()));
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap();
    run(
        &t,
        &["history", "--queue", "default", "export", "--out", path],
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.lines().count(), 5);
    for line in written.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(entry["queue"], "default");
    }
    // Nothing new: a second run appends nothing; new jobs are appended.
    run(
        &t,
        &["history", "--queue", "default", "export", "--out", path],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 5);
    run_pings(&t, 2).await;
    run(
        &t,
        &["history", "--queue", "default", "export", "--out", path],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 7);
    let status: serde_json::Value = serde_json::from_str(&stdout(&run(
        &t,
        &["--json", "history", "--queue", "default", "status"],
    )))
    .unwrap();
    assert_eq!(status["unexported"], 0);
    assert_eq!(status["kept"], 7);
    // A one-off range export leaves the cursor alone.
    let range = stdout(&run(
        &t,
        &[
            "history",
            "--queue",
            "default",
            "export",
            "--since",
            "2000-01-01",
        ],
    ));
    assert_eq!(range.lines().count(), 7);
    let _ = std::fs::remove_file(&file);
}
