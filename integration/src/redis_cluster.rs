//! A private Redis Cluster for tests: primaries and replicas as
//! `redis-server --cluster-enabled yes` children on free ports, joined with
//! `redis-cli --cluster create`. Killed when dropped.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_server::RedisServer;

/// A local Redis Cluster.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    /// Node id.
    pub id: String,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Whether it is a primary.
    pub primary: bool,
    /// Whether it is marked failed.
    pub failed: bool,
    /// The primary's id, for a replica.
    pub primary_id: Option<String>,
    /// Slot ranges served, for a primary.
    pub slots: Vec<(u16, u16)>,
}

impl RedisCluster {
    /// Starts `primaries` primaries with `replicas` replicas each and waits
    /// until the cluster serves every slot and every replica is in sync.
    pub fn start(primaries: usize, replicas: usize) -> Self {
        let count = primaries * (1 + replicas);
        let nodes: Vec<RedisServer> = (0..count)
            .map(|_| {
                RedisServer::start_with(&[
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "1000",
                ])
            })
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &nodes {
            create.arg(format!("127.0.0.1:{}", node.port()));
        }
        let status = create
            .arg("--cluster-replicas")
            .arg(replicas.to_string())
            .arg("--cluster-yes")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        assert!(status.success(), "redis-cli --cluster create failed");
        let cluster = Self { nodes };
        cluster.wait_healthy(primaries, count - primaries);
        cluster
    }

    /// A `redis+cluster://` URL naming every node as a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// `CLUSTER NODES` as seen by the first live node.
    pub fn topology(&self) -> Vec<ClusterNode> {
        for node in &self.nodes {
            if let Ok(text) = query::<String>(node.port(), &["CLUSTER", "NODES"]) {
                return parse_nodes(&text);
            }
        }
        panic!("no cluster node answers");
    }

    /// The primary serving `key`'s slot.
    pub fn primary_for(&self, key: &str) -> ClusterNode {
        self.owner_of(key)
            .unwrap_or_else(|| panic!("no primary serves {key:?}"))
    }

    /// The healthy primary serving `key`'s slot, if any.
    pub fn owner_of(&self, key: &str) -> Option<ClusterNode> {
        let slot = self
            .nodes
            .iter()
            .find_map(|n| query::<u16>(n.port(), &["CLUSTER", "KEYSLOT", key]).ok())
            .expect("a node answers CLUSTER KEYSLOT");
        self.topology().into_iter().find(|n| {
            n.primary && !n.failed && n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
        })
    }

    /// Promotes a replica of `key`'s primary with `CLUSTER FAILOVER` (the
    /// replica catches up first, so nothing is lost) and waits for it.
    pub fn failover(&self, key: &str) -> ClusterNode {
        let primary = self.primary_for(key);
        let replica = self.replica_of(&primary);
        query::<String>(replica.port, &["CLUSTER", "FAILOVER"]).expect("CLUSTER FAILOVER");
        self.wait_primary(key, replica.port);
        replica
    }

    /// SIGKILLs `key`'s primary and waits until a replica took over.
    pub fn kill_primary(&mut self, key: &str) -> ClusterNode {
        let primary = self.primary_for(key);
        let replica = self.replica_of(&primary);
        if let Some(server) = self.nodes.iter_mut().find(|n| n.port() == primary.port) {
            server.kill();
        }
        self.wait_primary(key, replica.port);
        replica
    }

    fn replica_of(&self, primary: &ClusterNode) -> ClusterNode {
        self.topology()
            .into_iter()
            .find(|n| n.primary_id.as_deref() == Some(primary.id.as_str()) && !n.failed)
            .unwrap_or_else(|| panic!("primary {} has no replica", primary.port))
    }

    fn wait_primary(&self, key: &str, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let owner_is_port = self.owner_of(key).is_some_and(|n| n.port == port);
            let ok = query::<String>(port, &["CLUSTER", "INFO"])
                .is_ok_and(|info| info.contains("cluster_state:ok"));
            if owner_is_port && ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("node {port} did not become the primary of {key:?}");
    }

    fn wait_healthy(&self, primaries: usize, replicas: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let all_ok = self.nodes.iter().all(|n| {
                query::<String>(n.port(), &["CLUSTER", "INFO"])
                    .is_ok_and(|info| info.contains("cluster_state:ok"))
            });
            let topology = self.topology();
            let shape_ok = topology.iter().filter(|n| n.primary).count() == primaries
                && topology.iter().filter(|n| !n.primary).count() == replicas;
            let synced = topology.iter().filter(|n| !n.primary).all(|n| {
                query::<String>(n.port, &["INFO", "replication"])
                    .is_ok_and(|info| info.contains("master_link_status:up"))
            });
            if all_ok && shape_ok && synced {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the test cluster did not become healthy");
    }
}

/// Runs one command on the node at `port` (blocking, short timeouts).
pub fn query<T: redis::FromRedisValue>(port: u16, args: &[&str]) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = client.get_connection_with_timeout(Duration::from_millis(500))?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(&mut conn)
}

fn parse_nodes(text: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let port = fields[1]
                .split('@')
                .next()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()?;
            let flags = fields[2];
            let slots = fields[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|range| match range.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => range.parse().ok().map(|s| (s, s)),
                })
                .collect();
            Some(ClusterNode {
                id: fields[0].to_owned(),
                port,
                primary: flags.contains("master"),
                failed: flags.contains("fail") && !flags.contains("fail?"),
                primary_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            })
        })
        .collect()
}
