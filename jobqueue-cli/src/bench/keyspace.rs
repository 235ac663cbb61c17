//! A fresh key prefix per run, and deleting its keys afterwards.

use jobqueue_core::store::conn::ConnectionSettings;
use jobqueue_core::store::{RedisConnection, RedisTopology};

/// A run's own prefix under the configured one.
pub(crate) fn run_prefix(base: &str) -> String {
    format!(
        "{base}-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Deletes every key under `prefix` (SCAN + UNLINK, in the background of
/// Redis). On a cluster every seed node is scanned (list them all in the
/// URL to clean up fully) and the keys are unlinked through the cluster
/// connection, one command per key so each goes to its slot's primary.
pub(crate) async fn delete_keys(url: &str, prefix: &str) -> Result<u64, String> {
    let settings = ConnectionSettings::default();
    let mut conn = RedisConnection::connect(url, settings.clone())
        .await
        .map_err(|e| e.to_string())?;
    let mut scanned = Vec::new();
    match RedisTopology::parse(url).map_err(|e| e.to_string())? {
        RedisTopology::Cluster { nodes } => {
            for node in nodes {
                let node_conn = RedisConnection::connect(&node, settings.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                scanned.push(node_conn);
            }
        }
        _ => scanned.push(conn.clone()),
    }
    let mut deleted = 0;
    for mut scan_conn in scanned {
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}:*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut scan_conn)
                .await
                .map_err(|e| e.to_string())?;
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.cmd("UNLINK").arg(key);
                }
                let unlinked: Vec<u64> = pipe
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                deleted += unlinked.iter().sum::<u64>();
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    Ok(deleted)
}
