//! Worker processes for tests that kill or signal them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Settings passed to the `test_worker` binary through its environment.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// Redis URL.
    pub url: String,
    /// Key prefix.
    pub prefix: String,
    /// Comma-separated queues.
    pub queues: String,
    /// Concurrency.
    pub concurrency: usize,
    /// Lease, ms.
    pub lease_ms: u64,
    /// Shutdown grace, ms.
    pub grace_ms: u64,
    /// Extra environment variables (e.g. `JQ_CRON` or `JQ_DEAD_MAX_JOBS`,
    /// see the test_worker binary, or `LD_PRELOAD`/`FAKETIME` to run the
    /// worker with a skewed clock).
    pub env: Vec<(String, String)>,
}

impl WorkerSpec {
    /// Defaults for tests: queue `default`, concurrency 10, lease 2 s, grace 5 s.
    pub fn new(url: &str, prefix: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            queues: "default".to_owned(),
            concurrency: 10,
            lease_ms: 2000,
            grace_ms: 5000,
            env: Vec::new(),
        }
    }
}

/// A running `test_worker` child process.
pub struct WorkerProcess {
    child: Child,
    /// The worker id it printed when ready.
    pub worker_id: String,
}

impl WorkerProcess {
    /// Starts `binary` (pass `env!("CARGO_BIN_EXE_test_worker")`) and waits
    /// until it reports ready.
    pub fn start(binary: &str, spec: &WorkerSpec) -> Self {
        let mut child = Command::new(binary)
            .env("JQ_URL", &spec.url)
            .env("JQ_PREFIX", &spec.prefix)
            .env("JQ_QUEUES", &spec.queues)
            .env("JQ_CONCURRENCY", spec.concurrency.to_string())
            .env("JQ_LEASE_MS", spec.lease_ms.to_string())
            .env("JQ_GRACE_MS", spec.grace_ms.to_string())
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn test_worker");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let worker_id = loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("READY ") => break line[6..].to_owned(),
                Some(Ok(_)) => {}
                _ => panic!("test_worker exited before it was ready"),
            }
            assert!(Instant::now() < deadline, "test_worker not ready in 30 s");
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, worker_id }
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies at once, holding whatever it had leased.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: the worker shuts down gracefully.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// SIGSTOP: the process freezes (as in a long GC pause or a suspended
    /// VM) holding its leases, until [`WorkerProcess::resume`].
    pub fn suspend(&self) {
        self.signal("STOP");
    }

    /// SIGCONT: a suspended process carries on.
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits for the process to exit; returns whether it exited successfully
    /// within `timeout` (it is killed otherwise).
    pub fn wait(mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return false;
                }
            }
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
