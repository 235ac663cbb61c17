//! Adapter processes: a worker ([`WorkerProcess`], started until its ready
//! line, stopped with SIGTERM or SIGKILL) and a producer session
//! ([`Producer`], one request line in, one reply line out).

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::adapters::Adapter;
use crate::failure::{Failure, Outcome};
use crate::protocol::{Options, Reply, Request};

/// How long an adapter may take to print its ready line (a Python or
/// Node start on a busy 2-core machine included).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one producer request may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);
/// Bytes of an adapter's stderr kept to explain a failure.
const STDERR_TAIL_BYTES: usize = 4096;

/// A worker's settings (ADAPTER.md's worker options).
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// Queues served.
    pub queues: Vec<String>,
    /// Most jobs at once.
    pub concurrency: usize,
    /// Lease length; `None`: the implementation's default.
    pub lease_ms: Option<u64>,
    /// Grace of the graceful stop; `None`: the implementation's default.
    pub shutdown_grace_ms: Option<u64>,
}

impl WorkerSpec {
    /// A worker serving `queue` with `concurrency` slots, a 3 s lease and a 2 s grace.
    pub fn on(queue: &str, concurrency: usize) -> Self {
        Self {
            queues: vec![queue.to_owned()],
            concurrency,
            lease_ms: Some(3_000),
            shutdown_grace_ms: Some(2_000),
        }
    }

    /// The same with a lease of `ms`.
    #[must_use]
    pub fn lease_ms(mut self, ms: u64) -> Self {
        self.lease_ms = Some(ms);
        self
    }

    /// The same with a shutdown grace of `ms`.
    #[must_use]
    pub fn grace_ms(mut self, ms: u64) -> Self {
        self.shutdown_grace_ms = Some(ms);
        self
    }
}

/// The last bytes an adapter wrote to stderr.
#[derive(Clone, Default)]
struct StderrTail(Arc<Mutex<String>>);

impl StderrTail {
    fn collect(&self, stream: impl AsyncRead + Unpin + Send + 'static) {
        let tail = self.0.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(mut text) = tail.lock() {
                    text.push_str(&line);
                    text.push('\n');
                    if text.len() > STDERR_TAIL_BYTES {
                        let mut cut = text.len() - STDERR_TAIL_BYTES;
                        while !text.is_char_boundary(cut) {
                            cut += 1;
                        }
                        text.drain(..cut);
                    }
                }
            }
        });
    }

    fn text(&self) -> String {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

fn command(adapter: &Adapter, mode: &str, url: &str, prefix: &str) -> Outcome<Command> {
    let (program, leading) = adapter
        .command
        .split_first()
        .ok_or_else(|| Failure::new(format!("adapter {} has an empty command", adapter.name)))?;
    let mut command = Command::new(program);
    command
        .args(leading)
        .args([mode, "--url", url, "--prefix", prefix])
        .envs(adapter.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(command)
}

fn spawn(adapter: &Adapter, mut command: Command) -> Outcome<(Child, StderrTail)> {
    let mut child = command.spawn().map_err(|err| {
        Failure::new(format!(
            "adapter {} ({:?}) did not start: {err}",
            adapter.name, adapter.command
        ))
    })?;
    let tail = StderrTail::default();
    if let Some(stderr) = child.stderr.take() {
        tail.collect(stderr);
    }
    Ok((child, tail))
}

/// A running worker of one adapter.
pub struct WorkerProcess {
    child: Child,
    stderr: StderrTail,
    /// The adapter's name.
    pub adapter: String,
    /// The worker id from its ready line.
    pub worker_id: String,
    /// The language from its ready line.
    pub language: String,
}

impl WorkerProcess {
    /// Starts `adapter`'s worker and waits for its ready line.
    pub async fn start(
        adapter: &Adapter,
        url: &str,
        prefix: &str,
        spec: &WorkerSpec,
    ) -> Outcome<Self> {
        let mut command = command(adapter, "worker", url, prefix)?;
        command.args([
            "--queues",
            &spec.queues.join(","),
            "--concurrency",
            &spec.concurrency.to_string(),
        ]);
        if let Some(ms) = spec.lease_ms {
            command.args(["--lease-ms", &ms.to_string()]);
        }
        if let Some(ms) = spec.shutdown_grace_ms {
            command.args(["--shutdown-grace-ms", &ms.to_string()]);
        }
        let (mut child, stderr) = spawn(adapter, command)?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Failure::new("the worker's stdout is not piped"))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = match tokio::time::timeout(READY_TIMEOUT, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => {
                return Err(Failure::new(format!(
                    "{} worker exited before its ready line; stderr:\n{}",
                    adapter.name,
                    stderr.text()
                )));
            }
            Err(_) => {
                return Err(Failure::new(format!(
                    "{} worker printed no ready line within {} s; stderr:\n{}",
                    adapter.name,
                    READY_TIMEOUT.as_secs(),
                    stderr.text()
                )));
            }
        };
        let ready: Value = serde_json::from_str(&line).map_err(|err| {
            Failure::new(format!(
                "{} worker's ready line {line:?} is not JSON: {err}",
                adapter.name
            ))
        })?;
        let field = |name: &str| ready.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(true), Some(worker_id), Some(language)) = (
            ready.get("ready").and_then(Value::as_bool),
            field("worker_id"),
            field("language"),
        ) else {
            return Err(Failure::new(format!(
                "{} worker's ready line {line:?} lacks ready/worker_id/language",
                adapter.name
            )));
        };
        // Anything more on stdout breaks the contract but must not block the pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            stderr,
            adapter: adapter.name.clone(),
            worker_id,
            language,
        })
    }

    /// Sends SIGTERM (the graceful stop).
    pub fn terminate(&self) -> Outcome {
        let pid = self
            .child
            .id()
            .ok_or_else(|| Failure::new("the worker process has already ended"))?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|err| Failure::new(format!("kill -TERM {pid}: {err}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Failure::new(format!("kill -TERM {pid} failed: {status}")))
        }
    }

    /// Ends the process at once (SIGKILL: a crash, no cleanup).
    pub async fn kill(&mut self) -> Outcome {
        self.child
            .kill()
            .await
            .map_err(|err| Failure::new(format!("killing the worker: {err}")))
    }

    /// Waits up to `within` for the process to exit.
    pub async fn wait_exit(&mut self, within: Duration) -> Outcome<ExitStatus> {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(err)) => Err(Failure::new(format!("waiting for the worker: {err}"))),
            Err(_) => Err(Failure::new(format!(
                "the {} worker did not exit within {} ms; stderr:\n{}",
                self.adapter,
                within.as_millis(),
                self.stderr.text()
            ))),
        }
    }
}

/// A producer session of one adapter.
pub struct Producer {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: StderrTail,
    /// The adapter's name.
    pub adapter: String,
}

impl Producer {
    /// Starts `adapter`'s producer mode.
    pub async fn start(adapter: &Adapter, url: &str, prefix: &str) -> Outcome<Self> {
        let (mut child, stderr) = spawn(adapter, command(adapter, "produce", url, prefix)?)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(Failure::new("the producer's stdin/stdout are not piped"));
        };
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            stderr,
            adapter: adapter.name.clone(),
        })
    }

    /// Sends `request`; returns its reply.
    pub async fn request(&mut self, request: &Request) -> Outcome<Reply> {
        let line = serde_json::to_string(request)
            .map_err(|err| Failure::new(format!("encoding a request: {err}")))?;
        self.send_line(&line).await
    }

    /// Sends one raw line (for requests the typed form cannot express).
    pub async fn send_line(&mut self, line: &str) -> Outcome<Reply> {
        let written = async {
            self.stdin.write_all(line.as_bytes()).await?;
            self.stdin.write_all(b"\n").await?;
            self.stdin.flush().await
        };
        if let Err(err) = written.await {
            return Err(Failure::new(format!(
                "{} producer stopped reading requests ({err}); stderr:\n{}",
                self.adapter,
                self.stderr.text()
            )));
        }
        let reply = match tokio::time::timeout(REPLY_TIMEOUT, self.stdout.next_line()).await {
            Ok(Ok(Some(reply))) => reply,
            Ok(_) => {
                return Err(Failure::new(format!(
                    "{} producer ended without replying to {line}; stderr:\n{}",
                    self.adapter,
                    self.stderr.text()
                )));
            }
            Err(_) => {
                return Err(Failure::new(format!(
                    "{} producer did not reply to {line} within {} s",
                    self.adapter,
                    REPLY_TIMEOUT.as_secs()
                )));
            }
        };
        serde_json::from_str(&reply).map(Reply).map_err(|err| {
            Failure::new(format!(
                "{} producer's reply {reply:?} is not JSON: {err}",
                self.adapter
            ))
        })
    }

    /// Sends `request` and requires `"ok":true`.
    pub async fn ok(&mut self, request: &Request) -> Outcome<Reply> {
        let reply = self.request(request).await?;
        if reply.is_ok() {
            Ok(reply)
        } else {
            Err(Failure::new(format!(
                "{} producer refused {}: {reply}",
                self.adapter,
                serde_json::to_string(request).unwrap_or_default()
            )))
        }
    }

    /// Enqueues one job; returns its id.
    pub async fn enqueue(
        &mut self,
        queue: &str,
        job_type: &str,
        payload: Value,
        options: Options,
    ) -> Outcome<String> {
        let reply = self
            .ok(&Request::Enqueue {
                queue: queue.to_owned(),
                job_type: job_type.to_owned(),
                payload,
                options,
            })
            .await?;
        reply
            .str("id")
            .map(str::to_owned)
            .ok_or_else(|| Failure::new(format!("enqueue reply without an id: {reply}")))
    }

    /// Reads job `id`'s status until its state is `state` (at most `within`).
    pub async fn wait_status(
        &mut self,
        queue: &str,
        id: &str,
        state: &str,
        within: Duration,
    ) -> Outcome<Reply> {
        let deadline = tokio::time::Instant::now() + within;
        let request = Request::Status {
            queue: queue.to_owned(),
            id: id.to_owned(),
        };
        loop {
            let reply = self.ok(&request).await?;
            let found = reply.0.pointer("/status/state").and_then(Value::as_str);
            if found == Some(state) {
                return Ok(reply);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Failure::new(format!(
                    "status of job {id} is not {state:?} after {} ms: {reply}",
                    within.as_millis()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Closes stdin; the adapter must exit 0 at EOF.
    pub async fn finish(mut self) -> Outcome {
        drop(self.stdin);
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(Failure::new(format!(
                "{} producer exited with {status} at EOF (expected 0); stderr:\n{}",
                self.adapter,
                self.stderr.text()
            ))),
            Ok(Err(err)) => Err(Failure::new(format!("waiting for the producer: {err}"))),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(Failure::new(format!(
                    "{} producer did not exit within 10 s of EOF",
                    self.adapter
                )))
            }
        }
    }
}
