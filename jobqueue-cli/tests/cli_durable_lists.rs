//! `jobqueue jobs sleeping` and `jobqueue jobs waiting-for-signal` list
//! the jobs of the queue's durable indexes (`--json` and table), and an
//! unknown state is a usage error (exit 2). The index entry is written
//! here as `step_store.lua` writes it, for a job filed under its id (the
//! real parking is tested in integration/tests/durable_listings.rs).

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError};
use jobqueue_testing::TestRedis;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Nap;

impl Job for Nap {
    const NAME: &'static str = "nap";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

fn run(t: &TestRedis, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .args(args)
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env_remove("JOBQUEUE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run jobqueue")
}

#[tokio::test]
async fn jobs_lists_sleeping_and_waiting_for_signal() {
    let t = TestRedis::named("cli-durable-lists")
        .await
        .expect("test Redis");
    let id = t
        .client()
        .enqueue_in(Duration::from_secs(3600), Nap)
        .await
        .expect("enqueue");
    let mut conn = t.connection().await.expect("connection");
    let far = 4_000_000_000_000_i64;
    let () = redis::cmd("ZADD")
        .arg(format!("{}:{{default}}:sleeping", t.prefix()))
        .arg(far)
        .arg(id.to_string())
        .query_async(&mut conn)
        .await
        .expect("ZADD");

    let out = run(&t, &["jobs", "sleeping", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["jobs"][0]["id"], id.to_string());
    let table = run(&t, &["jobs", "sleeping"]);
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).contains(&id.to_string()));

    let out = run(&t, &["jobs", "waiting-for-signal", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(page["total"], 0, "{page}");

    let bad = run(&t, &["jobs", "snoozing"]);
    assert_eq!(bad.status.code(), Some(2), "unknown state is a usage error");
}
