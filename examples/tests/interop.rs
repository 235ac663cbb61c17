//! Other languages can enqueue: `examples/interop/enqueue.py` (the `redis`
//! PyPI package) enqueues jobs that the Rust worker runs. Needs `python3`
//! with `redis` installed (`scripts/test` installs it).
//!
//! Also keeps `docs/envelope.schema.json` in step with the envelope type.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use jobqueue::testing::TestRedis;
use jobqueue::wire::record::{Envelope, ErrorEntry, FailureKind};
use jobqueue::{BackoffPolicy, Job, JobContext, JobError, JobState};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Greet {
    name: String,
    times: u32,
}

impl Job for Greet {
    const NAME: &'static str = "interop.greet";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        if self.name.is_empty() {
            return Err(JobError::permanent("no name"));
        }
        Ok(())
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples package sits in the repository")
        .to_owned()
}

/// Runs enqueue.py with `args` under the test's prefix; returns the job id.
fn enqueue_py(t: &TestRedis, args: &[&str]) -> uuid::Uuid {
    let script = repo_root().join("examples/interop/enqueue.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args(args)
        .output()
        .expect("python3 must be installed to run the interop test");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'redis'"),
        "the interop test needs the redis package: python3 -m pip install redis (scripts/test does it)"
    );
    assert!(output.status.success(), "enqueue.py failed: {stderr}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("enqueue.py printed no job id ({e}): {stderr}"))
}

#[tokio::test]
async fn jobs_enqueued_from_python_run_on_the_rust_worker() -> Result<(), Box<dyn std::error::Error>>
{
    let t = TestRedis::named("interop").await?;
    let now = enqueue_py(
        &t,
        &[
            "--type",
            "interop.greet",
            "--payload",
            r#"{"name":"Ada","times":1}"#,
        ],
    );
    let urgent = enqueue_py(
        &t,
        &[
            "--type",
            "interop.greet",
            "--payload",
            r#"{"name":"Grace","times":2}"#,
            "--priority",
            "10",
        ],
    );
    let later = enqueue_py(
        &t,
        &[
            "--type",
            "interop.greet",
            "--payload",
            r#"{"name":"Alan","times":3}"#,
            "--delay-ms",
            "3600000",
        ],
    );

    // The Rust side reads exactly what Python wrote.
    let ada = t.assert_enqueued::<Greet>(|job| job.name == "Ada").await;
    assert_eq!(
        (ada.id, ada.state, ada.job.times),
        (now, JobState::Ready, 1)
    );
    let grace = t.assert_enqueued::<Greet>(|job| job.name == "Grace").await;
    assert_eq!((grace.id, grace.priority), (urgent, 10));
    let alan = t.assert_enqueued::<Greet>(|job| job.name == "Alan").await;
    assert_eq!((alan.id, alan.state), (later, JobState::Scheduled));
    let wait = alan.at.ok_or("no due time")? - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(59), "due in {wait}");

    // The priority job runs first, the delayed one only once due.
    let report = t.drain(t.worker().register::<Greet>()).await?;
    let ran: Vec<_> = report.runs.iter().map(|run| run.id).collect();
    assert_eq!(ran, [Some(urgent), Some(now)]);
    assert_eq!(report.succeeded(), 2);
    t.advance(Duration::from_secs(3600)).await?;
    let report = t.drain(t.worker().register::<Greet>()).await?;
    assert_eq!(
        report.runs.iter().map(|run| run.id).collect::<Vec<_>>(),
        [Some(later)]
    );
    assert_eq!(report.succeeded(), 1);
    Ok(())
}

#[tokio::test]
async fn a_python_enqueue_wakes_an_idle_rust_worker() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("interop-wake").await?;
    // A fallback poll far beyond the test's patience, and no ready watch:
    // only the PUBLISH of the enqueue contract can get the job to the
    // worker in time.
    let worker = t
        .worker()
        .register::<Greet>()
        .idle_poll_interval(Duration::from_secs(300))
        .watch_ready(false)
        .start()
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await; // let it go idle
    enqueue_py(
        &t,
        &[
            "--type",
            "interop.greet",
            "--payload",
            r#"{"name":"Ada","times":1}"#,
        ],
    );
    let admin = t.client().admin();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let queue = admin.queue("default").await?;
        if queue.ready == 0 && queue.active == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker was not woken: {queue:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await;
    let queue = admin.queue("default").await?;
    assert_eq!((queue.processed, queue.dead), (1, 0));
    Ok(())
}

#[test]
fn the_envelope_schema_names_every_envelope_field() -> Result<(), Box<dyn std::error::Error>> {
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        repo_root().join("docs/envelope.schema.json"),
    )?)?;
    let mut envelope = Envelope::new("t");
    envelope.attempt = 1;
    envelope.max_attempts = Some(3);
    envelope.priority = 1;
    envelope.timeout_ms = Some(1);
    envelope.backoff = Some(BackoffPolicy::default());
    envelope.run_at = Some(1);
    envelope.version = 1;
    envelope.traceparent = Some("00-x-y-01".into());
    envelope.flow = Some("account:1".into());
    envelope.batch = Some(jobqueue::uuid::Uuid::nil());
    envelope.tags = vec!["customer:1".into()];
    envelope.enc = Some("zstd".into());
    envelope.digest = Some("0".repeat(40));
    envelope.push_error(ErrorEntry::new(1, 1, FailureKind::Error, "x"));
    let full = serde_json::to_value(&envelope)?;
    let mut fields: Vec<&String> = full.as_object().ok_or("not an object")?.keys().collect();
    let mut documented: Vec<&String> = schema["properties"]
        .as_object()
        .ok_or("no properties")?
        .keys()
        .collect();
    fields.sort();
    documented.sort();
    assert_eq!(fields, documented);
    assert_eq!(schema["required"], serde_json::json!(["id", "type"]));
    let kinds = schema["$defs"]["error"]["properties"]["kind"]["enum"]
        .as_array()
        .ok_or("no failure kinds")?
        .len();
    assert_eq!(kinds, 8, "one per FailureKind");
    Ok(())
}
