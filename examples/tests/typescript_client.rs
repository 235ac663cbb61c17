//! The TypeScript client (`clients/typescript`, package `jobqueue-client`)
//! beside the Rust crates: both build the same Lua scripts (same SHA), a
//! Rust producer feeds the TypeScript worker (`examples/interop/worker.mts`,
//! whose failures land in the dead set with the JavaScript stack trace), and
//! a TypeScript producer (`examples/interop/enqueue.mts`) feeds the Rust
//! worker; Python and TypeScript producers and workers feed each other; a
//! queue's running limit holds with a Rust and a TypeScript worker serving it.
//! Needs Node ≥ 20 and the package built (`npm ci && npm run build`
//! in clients/typescript), and for the Python test `python3` with the
//! Python client (`scripts/test` does both). Skipped, loudly, only
//! when `JOBQUEUE_SKIP_TYPESCRIPT` is set (scripts/lib/node.sh sets it when
//! no Node ≥ 20 is installed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use jobqueue::testing::TestRedis;
use jobqueue::wire::record::FailureKind;
use jobqueue::{Job, JobContext, JobError, JobState, QueueLimits};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Greet {
    name: String,
    times: u32,
}

impl Job for Greet {
    const NAME: &'static str = "interop.greet";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// A job type only the TypeScript example worker runs; without `width` it fails there.
#[derive(Debug, Serialize, Deserialize)]
struct Resize {
    image: String,
}

impl Job for Resize {
    const NAME: &'static str = "interop.resize";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Err(JobError::permanent("runs in TypeScript"))
    }
}

/// A long job (`interop.wait`): sleeps `seconds`, as the TypeScript example
/// worker's handler does.
#[derive(Debug, Serialize, Deserialize)]
struct Wait {
    seconds: u32,
}

/// Runs of `Wait` by the Rust worker in this test binary.
static RUST_WAITS: AtomicU32 = AtomicU32::new(0);

impl Job for Wait {
    const NAME: &'static str = "interop.wait";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        RUST_WAITS.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(u64::from(self.seconds))).await;
        Ok(())
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples package sits in the repository")
        .to_owned()
}

/// True (after a loud note) when scripts/test found no Node ≥ 20.
fn skipped() -> bool {
    let Some(reason) = std::env::var_os("JOBQUEUE_SKIP_TYPESCRIPT") else {
        return false;
    };
    eprintln!(
        "\n!!!!!!!! SKIPPED: the TypeScript client test did not run: {} !!!!!!!!\n",
        reason.to_string_lossy()
    );
    true
}

/// A file of the built package, failing the test with how to build it.
fn built(relative: &str) -> PathBuf {
    let path = repo_root().join("clients/typescript/dist").join(relative);
    assert!(
        path.is_file(),
        "{} is missing: build the TypeScript client first (cd clients/typescript && npm ci && npm run build; scripts/test does it)",
        path.display()
    );
    path
}

/// Runs `node args…`; returns stdout, failing the test with stderr.
fn node(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new("node")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("node (≥ 20) must be installed to run the TypeScript client tests");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "node {args:?} failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The example worker, started with `args` after the connection options.
fn example_worker(t: &TestRedis, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(built("examples/worker.mjs"))
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args(args)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

#[test]
fn typescript_builds_every_script_it_calls_with_the_rust_sha() {
    if skipped() {
        return;
    }
    let rust: BTreeMap<&str, &str> = jobqueue::store::script_digests().into_iter().collect();
    let listed = node(&[built("scripts.js").as_os_str()]);
    let mut compared = 0;
    for line in listed.lines() {
        let (name, sha) = line.split_once(' ').expect("`<name> <sha>` lines");
        assert_eq!(rust.get(name), Some(&sha), "script {name}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} scripts listed: {listed}");
}

#[tokio::test]
async fn a_rust_producer_feeds_the_typescript_worker() -> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-worker").await?;
    let client = t.client();
    let greet = client
        .job(Greet {
            name: "Ada".into(),
            times: 2,
        })
        .track()
        .enqueue()
        .await?;
    let resize = client
        .enqueue(Resize {
            image: "cat.png".into(),
        })
        .await?;

    let worker = example_worker(
        &t,
        &[
            "--queues",
            "default",
            "--concurrency",
            "4",
            "--exit-when-idle",
        ],
    )
    .output();
    let output = tokio::time::timeout(Duration::from_secs(30), worker).await??;
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the TypeScript worker failed: {log}"
    );
    assert!(log.contains("hello, Ada"), "{log}");

    let admin = client.admin();
    assert!(
        admin.job("default", greet).await?.is_none(),
        "Greet ran and left"
    );
    // The TypeScript handler's return value is the tracked job's result.
    let result: Option<serde_json::Value> =
        client.wait_result(greet, Duration::from_secs(5)).await?;
    assert_eq!(
        result,
        Some(serde_json::json!({"greeted": "Ada", "times": 2}))
    );
    let dead = admin
        .job("default", resize)
        .await?
        .ok_or("Resize is gone")?;
    assert_eq!((dead.state, dead.attempt), (JobState::Dead, 3));
    let last = dead.errors.last().ok_or("no error history")?;
    assert_eq!(last.kind, FailureKind::Error);
    assert!(
        last.message
            .starts_with("TypeError: no width given for cat.png\n"),
        "{}",
        last.message
    );
    assert!(
        last.message.contains("at resize (") && last.message.contains("worker.mjs:"),
        "the stack trace names the handler: {}",
        last.message
    );
    let queue = admin.queue("default").await?;
    assert_eq!((queue.processed, queue.failed, queue.dead), (1, 3, 1));
    Ok(())
}

#[tokio::test]
async fn a_typescript_producer_feeds_the_rust_worker() -> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-producer").await?;
    let enqueue = built("examples/enqueue.mjs");
    let ids: Vec<uuid::Uuid> = node(&[
        enqueue.as_os_str(),
        "--url".as_ref(),
        t.url().as_ref(),
        "--prefix".as_ref(),
        t.prefix().as_ref(),
    ])
    .lines()
    .map(str::parse)
    .collect::<Result<_, _>>()?;
    assert_eq!(ids.len(), 4);
    // The tagged job went through enqueue_priority.lua, which indexed its tag.
    let mut redis = redis::Client::open(t.url())?
        .get_multiplexed_async_connection()
        .await?;
    let tagged: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{}:{{default}}:tag:ts", t.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut redis)
        .await?;
    assert_eq!(tagged, [ids[1].to_string()]);

    let report = t.drain(t.worker().register::<Greet>()).await?;
    let ran: Vec<_> = report.runs.iter().filter_map(|run| run.id).collect();
    assert_eq!(
        ran,
        [ids[1], ids[0], ids[2], ids[3]],
        "priority first, then FIFO"
    );
    assert_eq!(report.succeeded(), 4);
    Ok(())
}

#[tokio::test]
async fn a_typescript_chain_runs_in_order_on_the_rust_worker()
-> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-chain").await?;
    let index = built("index.js");
    let program = format!(
        "import {{ Client }} from {index:?};\n\
         const c = Client.fromUrl({url:?}, {{ prefix: {prefix:?} }});\n\
         const ids = await c.chain(['Ada', 'Grace', 'Alan'].map((name) => ({{ type: 'interop.greet', payload: {{ name, times: 1 }} }})));\n\
         console.log(ids.join('\\n'));\n\
         await c.close();\n",
        index = index.to_string_lossy(),
        url = t.url(),
        prefix = t.prefix(),
    );
    let ids: Vec<uuid::Uuid> = node(&[
        "--input-type=module".as_ref(),
        "-e".as_ref(),
        program.as_ref(),
    ])
    .lines()
    .map(str::parse)
    .collect::<Result<_, _>>()?;
    assert_eq!(ids.len(), 3);
    let admin = t.client().admin();
    let waiting = admin.job("default", ids[2]).await?.ok_or("Alan is gone")?;
    assert_eq!(waiting.state, JobState::Waiting);

    let report = t.drain(t.worker().register::<Greet>()).await?;
    let ran: Vec<_> = report.runs.iter().filter_map(|run| run.id).collect();
    assert_eq!(ran, ids, "each job after its parent");
    assert_eq!(report.succeeded(), 3);
    Ok(())
}

/// Runs `python3 args…` (the Python client installed, as scripts/test does); returns stdout.
fn python(args: &[&str]) -> String {
    let output = Command::new("python3")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("python3 must be installed to run the Python ↔ TypeScript tests");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'jobqueue_client'"),
        "install the Python client first: python3 -m pip install ./clients/python (scripts/test does it)"
    );
    assert!(output.status.success(), "python3 {args:?} failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn python_and_typescript_feed_each_other() -> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-py").await?;
    // A Python producer feeds the TypeScript worker; the result is read back in Python.
    let program = format!(
        "from jobqueue_client import Client\n\
         c = Client.from_url({url:?}, prefix={prefix:?})\n\
         print(c.enqueue('interop.greet', {{'name': 'Ada', 'times': 1}}, track=True))\n",
        url = t.url(),
        prefix = t.prefix(),
    );
    let id = python(&["-c", &program]);
    let worker = example_worker(&t, &["--queues", "default", "--exit-when-idle"]).output();
    let output = tokio::time::timeout(Duration::from_secs(30), worker).await??;
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("hello, Ada"), "{log}");
    let read = format!(
        "import json, redis\n\
         r = redis.Redis.from_url({url:?})\n\
         print(r.hget('{prefix}:{{default}}:status:{id}', 'result').decode())\n",
        url = t.url(),
        prefix = t.prefix(),
        id = id.trim(),
    );
    let result: serde_json::Value = serde_json::from_str(python(&["-c", &read]).trim())?;
    assert_eq!(result, serde_json::json!({"greeted": "Ada", "times": 1}));

    // A TypeScript producer feeds the Python worker.
    let enqueue = built("examples/enqueue.mjs");
    let ids = node(&[
        enqueue.as_os_str(),
        "--url".as_ref(),
        t.url().as_ref(),
        "--prefix".as_ref(),
        t.prefix().as_ref(),
    ]);
    assert_eq!(ids.lines().count(), 4);
    let worker = tokio::process::Command::new("python3")
        .arg(repo_root().join("examples/interop/worker.py"))
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args(["--queues", "default", "--exit-when-idle"])
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), worker).await??;
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Python worker failed: {log}");
    for name in ["Ada", "Grace", "Alan", "Barbara"] {
        assert!(log.contains(&format!("hello, {name}")), "{name}: {log}");
    }
    let queue = t.client().admin().queue("default").await?;
    assert_eq!((queue.processed, queue.failed), (5, 0));
    Ok(())
}

#[tokio::test]
async fn rust_and_typescript_share_idempotency_keys() -> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-idem").await?;
    let index = built("index.js");
    let program = format!(
        "import {{ Client }} from {index:?};\n\
         const c = Client.fromUrl({url:?}, {{ prefix: {prefix:?} }});\n\
         console.log(await c.enqueue('interop.greet', {{ name: 'Ada', times: 1 }}, {{ idempotencyKey: 'order-1', idempotencyWindowMs: 60000 }}));\n\
         await c.close();\n",
        index = index.to_string_lossy(),
        url = t.url(),
        prefix = t.prefix(),
    );
    let first: uuid::Uuid = node(&[
        "--input-type=module".as_ref(),
        "-e".as_ref(),
        program.as_ref(),
    ])
    .trim()
    .parse()?;
    let client = t.client();
    let window = Duration::from_secs(60);
    let same = client
        .job(Greet {
            name: "Ada".into(),
            times: 1,
        })
        .idempotency_key("order-1", window)
        .enqueue()
        .await?;
    assert_eq!(same, first, "the TypeScript job holds the key");
    let other = client
        .job(Greet {
            name: "Grace".into(),
            times: 1,
        })
        .idempotency_key("order-1", window)
        .enqueue()
        .await;
    assert!(
        matches!(other, Err(jobqueue::Error::IdempotencyConflict { .. })),
        "{other:?}"
    );
    assert_eq!(client.admin().queue("default").await?.ready, 1);
    Ok(())
}

#[tokio::test]
async fn the_typescript_worker_shows_with_its_language_and_leaves_on_sigterm()
-> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-shows").await?;
    let mut worker =
        example_worker(&t, &["--queues", "default,images", "--concurrency", "7"]).spawn()?;
    let admin = t.client().admin();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let shown = loop {
        if let Some(info) = admin.workers().await?.into_iter().next() {
            break info;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the TypeScript worker never showed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(shown.language, "typescript");
    assert!(shown.version.contains("(node v"), "{}", shown.version);
    assert_eq!(
        (shown.queues.as_slice(), shown.concurrency),
        (&["default".to_owned(), "images".to_owned()][..], 7)
    );
    assert_eq!(shown.pid, worker.id().ok_or("no pid")?);

    let pid = worker.id().ok_or("no pid")?.to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
    );
    let exit = tokio::time::timeout(Duration::from_secs(20), worker.wait()).await??;
    assert!(
        exit.success(),
        "the TypeScript worker did not stop cleanly: {exit}"
    );
    assert!(admin.workers().await?.is_empty(), "it left the worker list");
    Ok(())
}

#[tokio::test]
async fn cancelling_a_job_stops_it_on_the_typescript_worker()
-> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    let t = TestRedis::named("ts-cancel").await?;
    let client = t.client();
    let id = client.enqueue(Wait { seconds: 60 }).await?;
    let worker = example_worker(&t, &["--queues", "default"]).spawn()?;
    let admin = client.admin();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while admin.job("default", id).await?.map(|job| job.state) != Some(JobState::Active) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.cancel("default", id).await?;
    // The worker's only job stopped: a SIGTERM now ends it at once, not
    // after the 25 s grace period a running job would get.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = worker.id().ok_or("no pid")?.to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
    );
    let output = tokio::time::timeout(Duration::from_secs(10), worker.wait_with_output()).await??;
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("cancelled by an operator"), "{log}");
    let job = admin.job("default", id).await?.ok_or("the job is gone")?;
    assert_eq!(job.state, JobState::Cancelled);
    assert_eq!(
        admin.queue("default").await?.ready,
        0,
        "nothing handed back"
    );
    Ok(())
}

#[tokio::test]
async fn a_running_limit_holds_across_a_rust_and_a_typescript_worker()
-> Result<(), Box<dyn std::error::Error>> {
    if skipped() {
        return Ok(());
    }
    const JOBS: u64 = 10;
    let t = TestRedis::named("ts-limit").await?;
    let client = t.client();
    let admin = client.admin();
    admin
        .set_queue_limits(
            "default",
            QueueLimits {
                max_running: Some(2),
                rate: None,
            },
        )
        .await?;
    for _ in 0..JOBS {
        client.enqueue(Wait { seconds: 1 }).await?;
    }
    // The TypeScript worker takes the two slots first, so both languages run jobs.
    let mut typescript =
        example_worker(&t, &["--queues", "default", "--concurrency", "6"]).spawn()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while admin.queue("default").await?.active < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the TypeScript worker never leased"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rust = t.worker().register::<Wait>().concurrency(6).start().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let queue = admin.queue("default").await?;
        assert!(
            queue.active <= 2,
            "{} jobs leased at once under a running limit of 2",
            queue.active
        );
        if queue.processed == JOBS {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the jobs did not all run: {queue:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rust.shutdown().await;
    let pid = typescript.id().ok_or("no pid")?.to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
    );
    let exit = tokio::time::timeout(Duration::from_secs(20), typescript.wait()).await??;
    assert!(exit.success(), "the TypeScript worker did not stop cleanly");
    let by_rust = u64::from(RUST_WAITS.load(Ordering::SeqCst));
    assert!(
        (1..=JOBS - 2).contains(&by_rust),
        "both languages ran jobs: {by_rust} of {JOBS} by Rust"
    );
    Ok(())
}
