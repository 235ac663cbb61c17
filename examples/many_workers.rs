//! Many workers: several worker processes share two queues; one is stopped
//! gracefully halfway through, the others finish the work; no job is lost
//! and none runs twice.
//!
//! Run it (Redis 7+ at `JOBQUEUE_REDIS_URL`, default `redis://127.0.0.1:6379`):
//!
//! ```text
//! cargo run -p jobqueue-examples --example many_workers
//! ```
//!
//! The program is both parts: started plainly it is the *coordinator*,
//! which enqueues 300 jobs (100 on `critical`, 200 on `default`) and starts
//! three copies of itself with the argument `worker`. Each worker process
//! takes jobs from both queues, `critical` three times as often, 8 at a time.
//! When a third of the jobs are done the coordinator sends the first worker
//! SIGTERM — what `kill`, systemd, Docker or Kubernetes send — and that
//! worker stops fetching, finishes the jobs it is running, hands back the
//! ones it had only prefetched, and exits. At the end the coordinator stops
//! the other two the same way and prints who ran what.
//!
//! Each run of a job counts itself in Redis (a hash of job id → runs), so
//! the coordinator can check that every job ran exactly once. It exits
//! with status 1 otherwise.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use jobqueue::{Client, ClientConfig, Job, JobContext, JobError};
use jobqueue::{Worker, shutdown_signal};
use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

const WORKERS: usize = 3;
const CRITICAL_JOBS: u32 = 100;
const DEFAULT_JOBS: u32 = 200;
const TOTAL_JOBS: usize = (CRITICAL_JOBS + DEFAULT_JOBS) as usize;

/// Jobs reach Redis through this static: jobqueue does not inject
/// application state into jobs yet.
static JOBS: OnceLock<Client> = OnceLock::new();

/// A job of 20-60 ms that records who ran it.
#[derive(Serialize, Deserialize)]
struct RenderPage {
    page: u32,
}

impl Job for RenderPage {
    const NAME: &'static str = "render_page";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(20..60))).await;
        let jobs = JOBS.get().ok_or_else(|| JobError::retry("no client"))?;
        let (runs, ran_by) = example_keys(jobs);
        redis::pipe()
            .hincr(runs, ctx.id().to_string(), 1)
            .ignore()
            .hincr(ran_by, ctx.worker_id(), 1)
            .ignore()
            .query_async::<()>(&mut jobs.store().connection())
            .await?;
        Ok(())
    }
}

/// The example's own keys (job id → runs, worker id → jobs run), under the
/// jobqueue prefix so they go away with it.
fn example_keys(client: &Client) -> (String, String) {
    let prefix = client.config().prefix_str();
    (
        format!("{prefix}:example:runs"),
        format!("{prefix}:example:ran_by"),
    )
}

/// A worker process: runs until SIGTERM or Ctrl-C, then shuts down gracefully.
async fn worker_process(client: Client) -> Result<(), Box<dyn std::error::Error>> {
    let _ = JOBS.set(client.clone());
    let report = Worker::builder(client)
        .register::<RenderPage>()
        .weighted_queues([("critical", 3), ("default", 1)])
        .concurrency(8)
        .shutdown_grace(Duration::from_secs(10))
        .run_until(shutdown_signal())
        .await?;
    println!(
        "worker {} (pid {}) stopped gracefully; handed back {} unfinished jobs",
        report.worker_id,
        std::process::id(),
        report.handed_back
    );
    Ok(())
}

fn spawn_worker() -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .arg("worker")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
}

/// Sends SIGTERM, as a process manager would.
async fn terminate(child: &Child) -> std::io::Result<()> {
    if let Some(pid) = child.id() {
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await?;
    }
    Ok(())
}

async fn runs(client: &Client) -> Result<HashMap<String, u64>, redis::RedisError> {
    redis::cmd("HGETALL")
        .arg(example_keys(client).0)
        .query_async(&mut client.store().connection())
        .await
}

/// Waits until at least `count` distinct jobs ran, for at most `limit`.
async fn wait_for_runs(
    client: &Client,
    count: usize,
    limit: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + limit;
    while runs(client).await?.len() < count {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("fewer than {count} jobs ran within {limit:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Waits until `count` worker processes have registered, for at most `limit`.
async fn wait_for_workers(
    client: &Client,
    count: usize,
    limit: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + limit;
    while client.admin().workers().await?.len() < count {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("fewer than {count} workers started within {limit:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn coordinator(client: Client) -> Result<bool, Box<dyn std::error::Error>> {
    let (runs_key, ran_by_key) = example_keys(&client);
    redis::cmd("DEL")
        .arg(&runs_key)
        .arg(&ran_by_key)
        .query_async::<()>(&mut client.store().connection())
        .await?;

    println!("starting {WORKERS} worker processes");
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        workers.push(spawn_worker()?);
    }
    wait_for_workers(&client, WORKERS, Duration::from_secs(60)).await?;

    let mut prepared = Vec::new();
    for page in 0..CRITICAL_JOBS {
        prepared.push(
            client
                .job(RenderPage { page })
                .queue("critical")
                .prepare()?,
        );
    }
    for page in CRITICAL_JOBS..CRITICAL_JOBS + DEFAULT_JOBS {
        prepared.push(client.job(RenderPage { page }).prepare()?);
    }
    client.enqueue_prepared(prepared).await?;
    println!("all workers up; enqueued {TOTAL_JOBS} jobs in one round trip");

    wait_for_runs(&client, TOTAL_JOBS / 3, Duration::from_secs(60)).await?;
    println!("a third done: stopping the first worker with SIGTERM");
    let mut first = workers.remove(0);
    terminate(&first).await?;
    let status = tokio::time::timeout(Duration::from_secs(30), first.wait()).await??;
    println!("first worker exited ({status}); the others carry on");

    wait_for_runs(&client, TOTAL_JOBS, Duration::from_secs(120)).await?;
    for worker in &workers {
        terminate(worker).await?;
    }
    for worker in &mut workers {
        tokio::time::timeout(Duration::from_secs(30), worker.wait()).await??;
    }

    let runs = runs(&client).await?;
    let ran_by: HashMap<String, u64> = redis::cmd("HGETALL")
        .arg(&ran_by_key)
        .query_async(&mut client.store().connection())
        .await?;
    println!("\njobs run per worker:");
    let mut ran_by: Vec<_> = ran_by.into_iter().collect();
    ran_by.sort();
    for (worker, count) in &ran_by {
        println!("  {worker}: {count}");
    }
    let twice = runs.values().filter(|&&n| n > 1).count();
    let exactly_once = runs.len() == TOTAL_JOBS && twice == 0;
    println!(
        "{} distinct jobs ran, {twice} more than once: {}",
        runs.len(),
        if exactly_once {
            "every job ran exactly once"
        } else {
            "NOT exactly once"
        }
    );
    Ok(exactly_once)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,jobqueue_worker=info".into()),
        )
        .with_target(false)
        .init();
    let client = Client::with_config(ClientConfig::from_env()).await?;
    if std::env::args().nth(1).as_deref() == Some("worker") {
        return worker_process(client).await;
    }
    if !coordinator(client).await? {
        std::process::exit(1);
    }
    Ok(())
}
