//! `jobqueue signal`: a signal for a job not waiting yet is stored (and
//! taken when it waits), bad JSON is a usage error (exit 2), an unknown
//! queue is not found (exit 3), and the action is audited.

use std::process::{Command, Output, Stdio};

use jobqueue_testing::TestRedis;

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
async fn signal_stores_refuses_bad_json_and_is_audited() {
    let t = TestRedis::named("cli-signal").await.expect("test Redis");
    // Make the queue known.
    let mut conn = t.connection().await.expect("connection");
    let () = redis::cmd("SADD")
        .arg(format!("{}:queues", t.prefix()))
        .arg("default")
        .query_async(&mut conn)
        .await
        .expect("SADD");
    let id = uuid::Uuid::now_v7().to_string();

    let out = run(
        &t,
        &[
            "signal",
            &id,
            "approved",
            "--payload",
            r#"{"by":"ops"}"#,
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(reply["status"], "stored");
    assert_eq!(reply["name"], "approved");
    let stored: Option<String> = redis::cmd("HGET")
        .arg(format!("{}:{{default}}:signals:{id}", t.prefix()))
        .arg("approved")
        .query_async(&mut conn)
        .await
        .expect("HGET");
    assert_eq!(stored.as_deref(), Some(r#"{"by":"ops"}"#));

    let bad = run(&t, &["signal", &id, "approved", "--payload", "{nope"]);
    assert_eq!(bad.status.code(), Some(2), "bad JSON is a usage error");
    let unknown = run(&t, &["signal", &id, "approved", "-q", "nope"]);
    assert_eq!(unknown.status.code(), Some(3), "unknown queue");

    let audit = t.client().admin().audit_log(None, 10).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "signal"), "{audit:?}");
}
