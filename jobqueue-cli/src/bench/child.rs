//! The benchmark's worker process (`jobqueue bench worker --role …`), and
//! how the parent starts it and reads its result.
//!
//! The child runs a normal [`Worker`] with the benchmark job registered,
//! prints `READY` once started, counts measured jobs as they run, and when
//! all of them have run *and* been acknowledged in Redis it shuts down
//! gracefully and prints one JSON line with its measurements.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use jobqueue_core::{Client, ClientConfig};
use jobqueue_worker::Worker;
use serde_json::{Value, json};

use super::args::BenchArgs;
use super::clock::now_ns;
use super::job::BenchJob;
use super::measurements;

/// Queue names for a run spread over `count` queues.
pub(crate) fn queue_names(count: usize) -> Vec<String> {
    if count <= 1 {
        vec!["bench".to_owned()]
    } else {
        (0..count).map(|i| format!("bench{i}")).collect()
    }
}

/// The child's main: run a worker until every measured job ran (or, for
/// the `limits` role, until the parent closes its stdin).
pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    if args.role.as_deref() == Some("limits") {
        return run_until_told(config, args).await;
    }
    let measured = measurements::start(args.jobs.unwrap_or(0))?;
    let client = Client::with_config(config)
        .await
        .map_err(|e| e.to_string())?;
    let queues = queue_names(args.queues);
    let mut builder = Worker::builder(client.clone())
        .register::<BenchJob>()
        .queues(queues.clone())
        // Bench jobs are enqueued to the bench queues, not BenchJob's own.
        .allow_unserved_queues()
        .concurrency(args.concurrency)
        .watch_ready(!args.no_watch_ready);
    if args.logs {
        // The subscriber has the capture layer (run.rs, `bench_subscriber`).
        builder = builder.job_logs(jobqueue_worker::JobLogs::new());
    }
    let worker = builder.start().await.map_err(|e| e.to_string())?;
    println!("READY");

    measured.all_ran().await;
    // Every job ran; the drain ends when Redis holds their acknowledgements.
    let admin = client.admin();
    loop {
        let mut settled = true;
        for queue in &queues {
            let info = admin.queue(queue).await.map_err(|e| e.to_string())?;
            settled &= info.ready == 0 && info.active == 0 && info.retry == 0;
        }
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    let done_ns = now_ns();
    let peak_rss_kib = peak_rss_kib();
    worker.shutdown().await;
    let totals = admin.totals().await.map_err(|e| e.to_string())?;
    let samples = measured.samples_ms();
    println!(
        "{}",
        json!({
            "first_start_ns": measured.first_start_ns(),
            "done_ns": done_ns,
            "processed": totals.processed,
            "failed": totals.failed,
            "peak_rss_kib": peak_rss_kib,
            "samples_ms": samples,
        })
    );
    Ok(())
}

/// The `limits` role: serve the `bench` queue beside other worker
/// processes until the parent closes stdin, then print every run's start
/// and end.
async fn run_until_told(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let measured = measurements::start(0)?;
    let client = Client::with_config(config)
        .await
        .map_err(|e| e.to_string())?;
    let worker = Worker::builder(client)
        .register::<BenchJob>()
        .queues(queue_names(1))
        // The bench routes its jobs to its own queue with `.queue(..)`.
        .allow_unserved_queues()
        .concurrency(args.concurrency)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    println!("READY");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .map_err(|e| e.to_string())?;
    worker.shutdown().await;
    println!("{}", json!({ "runs": measured.runs() }));
    Ok(())
}

/// Peak resident set size of this process (VmHWM), KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// A running child worker process, seen from the parent.
pub(crate) struct ChildWorker {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    /// From spawn until it printed READY.
    pub(crate) boot: Duration,
}

impl ChildWorker {
    /// Starts `jobqueue bench worker` for `jobs` measured jobs and waits until it is ready.
    pub(crate) fn start(
        url: &str,
        prefix: &str,
        args: &BenchArgs,
        jobs: u64,
    ) -> Result<Self, String> {
        let jobs = jobs.to_string();
        let concurrency = args.concurrency.to_string();
        let queues = args.queues.to_string();
        let mut worker_args = vec![
            "--jobs",
            &jobs,
            "--concurrency",
            &concurrency,
            "--queues",
            &queues,
        ];
        if args.logs {
            worker_args.push("--logs");
        }
        if args.no_watch_ready {
            worker_args.push("--no-watch-ready");
        }
        if args.compress {
            worker_args.push("--compress");
        }
        if args.encrypt {
            worker_args.push("--encrypt");
        }
        Self::spawn(url, prefix, &worker_args)
    }

    /// Starts a `limits` worker process (it runs until [`ChildWorker::stop`]).
    pub(crate) fn start_limits(url: &str, prefix: &str, args: &BenchArgs) -> Result<Self, String> {
        let concurrency = args.concurrency.to_string();
        Self::spawn(
            url,
            prefix,
            &["--role", "limits", "--concurrency", &concurrency],
        )
    }

    /// Tells a `limits` worker process to shut down (closes its stdin).
    pub(crate) fn stop(&mut self) {
        drop(self.child.stdin.take());
    }

    fn spawn(url: &str, prefix: &str, worker_args: &[&str]) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find own binary: {e}"))?;
        let spawned = Instant::now();
        let mut child = Command::new(exe)
            .arg("--redis-url")
            .arg(url)
            .arg("--prefix")
            .arg(prefix)
            .arg("bench")
            .arg("worker")
            .args(worker_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the worker process: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout from worker")?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line == "READY" => break,
                Some(Ok(_)) => {}
                _ => return Err("the worker process exited before it was ready".into()),
            }
        }
        Ok(Self {
            child,
            lines,
            boot: spawned.elapsed(),
        })
    }

    /// Waits (on a blocking thread) for the child's result line and exit.
    pub(crate) async fn result(mut self) -> Result<Value, String> {
        tokio::task::spawn_blocking(move || {
            let line = loop {
                match self.lines.next() {
                    Some(Ok(line)) if line.starts_with('{') => break line,
                    Some(Ok(_)) => {}
                    _ => return Err("the worker process exited without a result".to_owned()),
                }
            };
            let _ = self.child.wait();
            serde_json::from_str(&line).map_err(|e| format!("bad result from worker: {e}"))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

impl Drop for ChildWorker {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// The latency samples (ms) a worker process reported.
pub(crate) fn samples_ms(result: &Value) -> Vec<f64> {
    result["samples_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}
