//! A private Sentinel setup for tests: a primary, one replica and three
//! sentinels monitoring them as `main`, all on free local ports. Killed
//! when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_cluster::query;
use crate::redis_server::RedisServer;
use crate::redis_server::{free_port, server_binary};

/// The name the sentinels monitor the primary under.
pub const SERVICE: &str = "main";

/// Primary + replica + 3 sentinels.
pub struct SentinelSetup {
    /// The initial primary.
    pub primary: RedisServer,
    /// Its replica.
    pub replica: RedisServer,
    sentinels: Vec<(u16, Child)>,
    dir: PathBuf,
}

impl SentinelSetup {
    /// Starts everything and waits until the sentinels know the replica
    /// and each other, so a failover can happen.
    pub fn start() -> Self {
        let primary = RedisServer::start();
        let primary_port = primary.port().to_string();
        let replica = RedisServer::start_with(&[
            "--appendonly",
            "no",
            "--replicaof",
            "127.0.0.1",
            &primary_port,
        ]);
        let dir = std::env::temp_dir().join(format!(
            "jobqueue-sentinels-{}-{}",
            std::process::id(),
            primary.port()
        ));
        std::fs::create_dir_all(&dir).expect("create sentinel dir");
        let sentinels = (0..3)
            .map(|_| {
                let port = free_port();
                let conf = dir.join(format!("sentinel-{port}.conf"));
                std::fs::write(
                    &conf,
                    format!(
                        "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                         sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n\
                         sentinel down-after-milliseconds {SERVICE} 1000\n\
                         sentinel failover-timeout {SERVICE} 4000\n",
                        dir = dir.display()
                    ),
                )
                .expect("write sentinel.conf");
                let child = Command::new(server_binary())
                    .arg(&conf)
                    .arg("--sentinel")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start redis-server --sentinel");
                (port, child)
            })
            .collect();
        let setup = Self {
            primary,
            replica,
            sentinels,
            dir,
        };
        setup.wait_ready();
        setup
    }

    /// A `redis+sentinel://` URL naming the three sentinels.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|(port, _)| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis+sentinel://{}/{SERVICE}", hosts.join(","))
    }

    /// The port of the primary the sentinels name now.
    pub fn primary_port(&self) -> Option<u16> {
        self.sentinels.iter().find_map(|(port, _)| {
            query::<Vec<String>>(*port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE])
                .ok()
                .and_then(|addr| addr.get(1).and_then(|p| p.parse().ok()))
        })
    }

    /// Forces a failover (`SENTINEL FAILOVER`) and waits until the replica
    /// is the primary and accepts writes.
    pub fn failover(&self) {
        let (port, _) = &self.sentinels[0];
        query::<String>(*port, &["SENTINEL", "FAILOVER", SERVICE]).expect("SENTINEL FAILOVER");
        let replica = self.replica.port();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let promoted = query::<String>(replica, &["INFO", "replication"])
                .is_ok_and(|info| info.contains("role:master"));
            if promoted && self.primary_port() == Some(replica) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the replica did not become the primary");
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let replica = self.replica.port();
        while Instant::now() < deadline {
            let synced = query::<String>(replica, &["INFO", "replication"])
                .is_ok_and(|info| info.contains("master_link_status:up"));
            let known = self.sentinels.iter().all(|(port, _)| {
                query::<redis::Value>(*port, &["SENTINEL", "REPLICAS", SERVICE])
                    .is_ok_and(|v| matches!(v, redis::Value::Array(ref a) if !a.is_empty()))
                    && query::<redis::Value>(*port, &["SENTINEL", "SENTINELS", SERVICE])
                        .is_ok_and(|v| matches!(v, redis::Value::Array(ref a) if a.len() == 2))
            });
            if synced && known {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the sentinels did not discover the replica and each other");
    }
}

impl Drop for SentinelSetup {
    fn drop(&mut self) {
        for (_, child) in &mut self.sentinels {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
