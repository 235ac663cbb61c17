//! The Python client (`clients/python`, package `jobqueue_client`) beside
//! the Rust crates: both build the same Lua scripts (same SHA), a Rust
//! producer feeds the Python worker (`examples/interop/worker.py`, whose
//! failures land in the dead set with the Python traceback), and a Python
//! producer feeds the Rust worker. Needs `python3` with the package
//! installed (`pip install ./clients/python`; `scripts/test` does it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use jobqueue::testing::TestRedis;
use jobqueue::wire::record::FailureKind;
use jobqueue::{Job, JobContext, JobError, JobState, QueueLimits, UniqueOutcome};
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

/// A job type only the Python example worker runs; without `width` it fails there.
#[derive(Debug, Serialize, Deserialize)]
struct Resize {
    image: String,
}

impl Job for Resize {
    const NAME: &'static str = "interop.resize";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Err(JobError::permanent("runs in Python"))
    }
}

/// A long job the Python example worker runs (`interop.wait`).
#[derive(Debug, Serialize, Deserialize)]
struct Wait {
    seconds: u32,
}

impl Job for Wait {
    const NAME: &'static str = "interop.wait";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Err(JobError::permanent("runs in Python"))
    }
}

/// Holds a slot for `ms` and counts in Redis how many run at once (`<key>:running`,
/// peak in the zset `<key>:peak`) and which language ran it (`<key>:ran`), as
/// the Python example worker's `interop.slot` does.
#[derive(Debug, Serialize, Deserialize)]
struct Slot {
    url: String,
    key: String,
    ms: u64,
}

impl Job for Slot {
    const NAME: &'static str = "interop.slot";

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        let mut conn = redis::Client::open(self.url.as_str())?
            .get_multiplexed_async_connection()
            .await?;
        let running: i64 = redis::cmd("INCR")
            .arg(format!("{}:running", self.key))
            .query_async(&mut conn)
            .await?;
        redis::cmd("ZADD")
            .arg(format!("{}:peak", self.key))
            .arg("GT")
            .arg(running)
            .arg("peak")
            .query_async::<i64>(&mut conn)
            .await?;
        redis::cmd("HINCRBY")
            .arg(format!("{}:ran", self.key))
            .arg("rust")
            .arg(1)
            .query_async::<i64>(&mut conn)
            .await?;
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        redis::cmd("DECR")
            .arg(format!("{}:running", self.key))
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the examples package sits in the repository")
        .to_owned()
}

/// Runs `python3 args…`; returns stdout, failing the test with stderr.
fn python(args: &[&str]) -> String {
    let output = Command::new("python3")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("python3 must be installed to run the Python client tests");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'jobqueue_client'"),
        "install the Python client first: python3 -m pip install ./clients/python (scripts/test does it)"
    );
    assert!(output.status.success(), "python3 {args:?} failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn python_builds_every_script_it_calls_with_the_rust_sha() {
    let rust: BTreeMap<&str, &str> = jobqueue::store::script_digests().into_iter().collect();
    let listed = python(&["-m", "jobqueue_client.scripts"]);
    let mut compared = 0;
    for line in listed.lines() {
        let (name, sha) = line.split_once(' ').expect("`<name> <sha>` lines");
        assert_eq!(rust.get(name), Some(&sha), "script {name}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} scripts listed: {listed}");
}

#[tokio::test]
async fn a_rust_producer_feeds_the_python_worker() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("py-worker").await?;
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

    let worker = tokio::process::Command::new("python3")
        .arg(repo_root().join("examples/interop/worker.py"))
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args([
            "--queues",
            "default",
            "--concurrency",
            "4",
            "--exit-when-idle",
        ])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), worker).await??;
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Python worker failed: {log}");
    assert!(log.contains("hello, Ada"), "{log}");

    let admin = client.admin();
    assert!(
        admin.job("default", greet).await?.is_none(),
        "Greet ran and left"
    );
    // The Python handler's return value is the tracked job's result.
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
        last.message.starts_with("KeyError: 'width'"),
        "{}",
        last.message
    );
    assert!(
        last.message.contains("Traceback (most recent call last)")
            && last.message.contains("in resize"),
        "{}",
        last.message
    );
    let queue = admin.queue("default").await?;
    assert_eq!((queue.processed, queue.failed, queue.dead), (1, 3, 1));
    Ok(())
}

#[tokio::test]
async fn a_python_producer_feeds_the_rust_worker() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("py-producer").await?;
    let program = format!(
        "from jobqueue_client import Client, Job\n\
         c = Client.from_url({url:?}, prefix={prefix:?})\n\
         print(c.enqueue('interop.greet', {{'name': 'Ada', 'times': 1}}))\n\
         print(c.enqueue('interop.greet', {{'name': 'Grace', 'times': 2}}, priority=10, tags=['py']))\n\
         for i in c.enqueue_many([Job('interop.greet', {{'name': n, 'times': 3}}) for n in ('Alan', 'Barbara')]): print(i)\n",
        url = t.url(),
        prefix = t.prefix(),
    );
    let ids: Vec<uuid::Uuid> = python(&["-c", &program])
        .lines()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    assert_eq!(ids.len(), 4);

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
async fn the_python_worker_shows_with_its_language_and_leaves_on_sigterm()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("py-shows").await?;
    let mut worker = tokio::process::Command::new("python3")
        .arg(repo_root().join("examples/interop/worker.py"))
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args(["--queues", "default,images", "--concurrency", "7"])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let admin = t.client().admin();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let shown = loop {
        if let Some(info) = admin.workers().await?.into_iter().next() {
            break info;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Python worker never showed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(shown.language, "python");
    assert!(shown.version.contains("python"), "{}", shown.version);
    assert_eq!(
        (shown.queues.as_slice(), shown.concurrency),
        (&["default".to_owned(), "images".to_owned()][..], 7)
    );
    assert_eq!(shown.pid, worker.id().ok_or("no pid")?);

    let pid = worker.id().ok_or("no pid")?.to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status()?;
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(20), worker.wait()).await??;
    assert!(
        exit.success(),
        "the Python worker did not stop cleanly: {exit}"
    );
    assert!(admin.workers().await?.is_empty(), "it left the worker list");
    Ok(())
}

#[tokio::test]
async fn cancelling_a_job_stops_it_on_the_python_worker() -> Result<(), Box<dyn std::error::Error>>
{
    let t = TestRedis::named("py-cancel").await?;
    let client = t.client();
    let id = client.enqueue(Wait { seconds: 60 }).await?;
    let mut worker = tokio::process::Command::new("python3")
        .arg(repo_root().join("examples/interop/worker.py"))
        .args([
            "--url",
            t.url(),
            "--prefix",
            t.prefix(),
            "--queues",
            "default",
        ])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    // The worker's log, read as it comes.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = worker.stderr.take().ok_or("no stderr")?;
    let reader = tokio::spawn({
        let log = log.clone();
        async move {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(mut log) = log.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        }
    });
    let logged = |text: &str| log.lock().map(|log| log.contains(text)).unwrap_or(false);
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
    // Once the worker says its only job stopped, a SIGTERM ends it at once,
    // not after the 25 s grace period a running job would get. (A fixed
    // 300 ms wait here was too short once on a CPU-starved CI machine.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !logged("cancelled by an operator") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker never stopped the cancelled job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = worker.id().ok_or("no pid")?.to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(10), worker.wait()).await??;
    let _ = reader.await;
    let log = log.lock().map(|log| log.clone()).unwrap_or_default();
    assert!(status.success(), "{log}");
    let job = admin.job("default", id).await?.ok_or("the job is gone")?;
    assert_eq!(job.state, JobState::Cancelled);
    assert_eq!(
        admin.queue("default").await?.ready,
        0,
        "nothing handed back"
    );
    Ok(())
}

/// Runs the Python example worker on `default` until its queue is idle; returns its log.
async fn run_python_worker_until_idle(t: &TestRedis) -> Result<String, Box<dyn std::error::Error>> {
    let worker = tokio::process::Command::new("python3")
        .arg(repo_root().join("examples/interop/worker.py"))
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args(["--queues", "default", "--exit-when-idle"])
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), worker).await??;
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "the Python worker failed: {log}");
    Ok(log)
}

#[tokio::test]
async fn a_rust_chain_parent_run_by_python_releases_its_child()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("py-chain").await?;
    let client = t.client();
    let greet = |name: &str| Greet {
        name: name.into(),
        times: 1,
    };
    let parent = client
        .job(greet("Parent"))
        .with_dependents()
        .enqueue()
        .await?;
    let child = client
        .job(greet("Child"))
        .after(("default", parent))
        .enqueue()
        .await?;
    let admin = client.admin();
    assert_eq!(
        admin.job("default", child).await?.map(|job| job.state),
        Some(JobState::Waiting)
    );

    let log = run_python_worker_until_idle(&t).await?;
    let (first, then) = (log.find("hello, Parent"), log.find("hello, Child"));
    assert!(
        first.is_some() && then.is_some() && first < then,
        "the parent runs, then its released child: {log}"
    );
    assert!(
        admin.job("default", child).await?.is_none(),
        "the child ran"
    );
    let queue = admin.queue("default").await?;
    assert_eq!((queue.processed, queue.waiting), (2, 0));
    Ok(())
}

#[tokio::test]
async fn unique_jobs_are_deduplicated_across_python_and_rust_producers()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("py-unique").await?;
    let client = t.client();
    let rust_first = client
        .job(Greet {
            name: "Ada".into(),
            times: 1,
        })
        .unique_for(Duration::from_secs(60))
        .enqueue_unique()
        .await?
        .id();
    let program = format!(
        "from jobqueue_client import Client\n\
         c = Client.from_url({url:?}, prefix={prefix:?})\n\
         o = c.enqueue_unique('interop.greet', {{'name': 'Ada', 'times': 1}}, unique_for=60)\n\
         print(o.status, o.id)\n\
         o = c.enqueue_unique('interop.greet', {{'name': 'Bob', 'times': 1}}, unique_for=60, unique_key='greet-bob')\n\
         print(o.status, o.id)\n",
        url = t.url(),
        prefix = t.prefix(),
    );
    let printed = python(&["-c", &program]);
    let lines: Vec<(&str, &str)> = printed
        .lines()
        .filter_map(|line| line.split_once(' '))
        .collect();
    assert_eq!(lines.len(), 2, "{printed}");
    assert_eq!(
        lines[0],
        ("duplicate", rust_first.to_string().as_str()),
        "Python sees the Rust job's lock (same default key: type + payload)"
    );
    assert_eq!(lines[1].0, "enqueued");
    let python_first: uuid::Uuid = lines[1].1.parse()?;
    let again = client
        .job(Greet {
            name: "Bob".into(),
            times: 2,
        })
        .unique_for(Duration::from_secs(60))
        .unique_key("greet-bob")
        .enqueue_unique()
        .await?;
    assert_eq!(
        again,
        UniqueOutcome::Duplicate {
            existing: python_first
        },
        "Rust sees the Python job's lock (same unique key)"
    );
    assert_eq!(client.admin().queue("default").await?.ready, 2);
    Ok(())
}

#[tokio::test]
async fn a_flow_limited_queue_served_by_rust_and_python_workers_keeps_its_limit()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("py-limit").await?;
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
    let key = format!("{}:slot-test", t.prefix());
    const JOBS: u64 = 24;
    // The Python worker (one slot) starts first and runs jobs; then the
    // Rust worker (five slots) joins. Both are served whatever the race for
    // freed slots: the Python worker holds at most one of the limit's two,
    // so the other is the Rust worker's once it is up; and with six slots
    // between them, only the limit keeps them from running more than two.
    // (Both idle before the jobs, the first to fetch could keep both slots
    // to the end: its own next fetch follows its ack before the other
    // worker's wake-up arrives — a Python worker once ran all 24.)
    let python = tokio::process::Command::new("python3")
        .arg(repo_root().join("examples/interop/worker.py"))
        .args(["--url", t.url(), "--prefix", t.prefix()])
        .args(["--queues", "default", "--concurrency", "1"])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    for _ in 0..JOBS {
        client
            .enqueue(Slot {
                url: t.url().to_owned(),
                key: key.clone(),
                ms: 60,
            })
            .await?;
    }
    let mut conn = t.connection().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let by_python: Option<u64> = redis::cmd("HGET")
            .arg(format!("{key}:ran"))
            .arg("python")
            .query_async(&mut conn)
            .await?;
        if by_python.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Python worker ran no job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rust = t.worker().register::<Slot>().concurrency(5).start().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while admin.queue("default").await?.processed < JOBS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all jobs ran: {:?}",
            admin.queue("default").await?
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rust.shutdown().await;
    let pid = python.id().ok_or("no pid")?.to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
    );
    let output = tokio::time::timeout(Duration::from_secs(20), python.wait_with_output()).await??;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let peak: Option<f64> = redis::cmd("ZSCORE")
        .arg(format!("{key}:peak"))
        .arg("peak")
        .query_async(&mut conn)
        .await?;
    let ran: BTreeMap<String, u64> = redis::cmd("HGETALL")
        .arg(format!("{key}:ran"))
        .query_async(&mut conn)
        .await?;
    assert_eq!(peak, Some(2.0), "never more than the limit at once");
    assert_eq!(ran.values().sum::<u64>(), JOBS, "{ran:?}");
    assert!(
        ran.get("rust").copied().unwrap_or(0) > 0 && ran.get("python").copied().unwrap_or(0) > 0,
        "both workers served the queue: {ran:?}"
    );
    Ok(())
}
