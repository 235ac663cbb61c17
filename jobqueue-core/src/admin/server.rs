//! What the dashboard shows about the Redis server itself.

use serde::Serialize;

use crate::admin::handle::Admin;
use crate::error::Error;

/// Version and memory of the Redis server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// Which server answers: `Redis` or `Valkey` (from `server_name`,
    /// which only Valkey reports).
    pub server: String,
    /// The server's own version: `valkey_version` on Valkey (whose
    /// `redis_version` names the Redis it is compatible with, 7.2.4),
    /// else `redis_version`.
    pub version: String,
    /// `used_memory` in bytes.
    pub used_memory: u64,
    /// `used_memory_human`.
    pub used_memory_human: String,
    /// `maxmemory` in bytes (0 = no limit).
    pub max_memory: u64,
}

impl Admin {
    /// Version and memory of the Redis server (one `INFO` call; some
    /// managed Redis deny `INFO`, then the fields read "unknown").
    pub async fn server_info(&self) -> Result<ServerInfo, Error> {
        let text = self.store.server_info_text().await?;
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
        };
        let server = match field("server_name").as_deref() {
            Some(name) if name.eq_ignore_ascii_case("valkey") => "Valkey",
            _ => "Redis",
        };
        Ok(ServerInfo {
            server: server.to_owned(),
            version: field("valkey_version")
                .or_else(|| field("redis_version"))
                .unwrap_or_else(|| "unknown".to_owned()),
            used_memory: field("used_memory")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            used_memory_human: field("used_memory_human").unwrap_or_else(|| "unknown".to_owned()),
            max_memory: field("maxmemory").and_then(|v| v.parse().ok()).unwrap_or(0),
        })
    }
}
