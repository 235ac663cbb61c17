//! `jobqueue job <id> --logs` prints a job's logs per attempt (`--json`
//! and text, control characters escaped in text). The log is written here
//! as a worker writes it (`Store::write_job_logs`); capture by a real
//! worker is tested in integration/tests/job_logs.rs.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jobqueue_core::store::commands::job_logs::JobLogWrite;
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
async fn job_logs_prints_each_attempt() {
    let t = TestRedis::named("cli-job-logs").await.expect("test Redis");
    let id = t
        .client()
        .enqueue_in(Duration::from_secs(3600), Nap)
        .await
        .expect("enqueue");
    let store = t.client().store().clone();
    let keys = store.queue_keys("default").expect("keys");
    let writes: Vec<JobLogWrite> = (1..=2)
        .map(|attempt| JobLogWrite::Attempt {
            job_id: id.to_string(),
            attempt,
            lines_json: serde_json::to_string(&[format!("+0ms INFO try {attempt}\u{1b}[2J")])
                .expect("JSON"),
        })
        .collect();
    store
        .write_job_logs(&keys, &writes, Duration::from_secs(600))
        .await
        .expect("write logs");

    let id_text = id.to_string();
    let out = run(&t, &["job", &id_text, "--logs", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(logs["queue"], "default");
    assert_eq!(logs["attempts"][1]["attempt"], 2, "{logs}");
    assert_eq!(logs["attempts"][0]["lines"][0], "+0ms INFO try 1\u{1b}[2J");

    let text = run(&t, &["job", &id_text, "--logs", "--queue", "default"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("attempt 2 (1 lines)"), "{text}");
    assert!(text.contains("try 1\\u{001B}[2J"), "escaped: {text}");
    assert!(!text.contains('\u{1b}'), "{text}");

    let missing = run(&t, &["job", &uuid::Uuid::now_v7().to_string(), "--logs"]);
    assert_eq!(missing.status.code(), Some(3), "not found");
}
