//! Every key under a prefix: counted, and removed, for `jobqueue purge
//! --prefix`. `SCAN … MATCH <prefix>:*` on each server (each primary of a
//! Cluster), never `KEYS`; removal with `UNLINK` a scan page at a time.
//! A key is touched only if its name starts with `<prefix>:`.

use redis::Value;

use crate::error::Error;
use crate::store::conn::ScanTarget;
use crate::store::handle::Store;

/// Keys asked for per `SCAN` call.
const SCAN_COUNT: usize = 1000;

/// `prefix` as a `SCAN MATCH` pattern for the keys under it: glob
/// characters escaped, then `:*`.
fn pattern_under(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str(":*");
    pattern
}

impl Store {
    /// One `SCAN` page on `target`: the next cursor and the keys under
    /// `prefix` it returned.
    async fn scan_page(
        &self,
        target: &ScanTarget,
        cursor: u64,
        prefix: &str,
    ) -> Result<(u64, Vec<String>), Error> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern_under(prefix))
            .arg("COUNT")
            .arg(SCAN_COUNT);
        let reply = self.conn.query_on(target, cmd).await?;
        let (next, keys): (u64, Vec<String>) =
            redis::from_redis_value(reply).map_err(|e| Error::protocol("scan", e.to_string()))?;
        let under = format!("{prefix}:");
        Ok((
            next,
            keys.into_iter().filter(|k| k.starts_with(&under)).collect(),
        ))
    }

    /// How many keys are under `prefix` (`<prefix>:…`), on every server.
    pub async fn count_keys_under(&self, prefix: &str) -> Result<u64, Error> {
        let mut total = 0u64;
        for target in self.conn.scan_targets().await? {
            let mut cursor = 0;
            loop {
                let (next, keys) = self.scan_page(&target, cursor, prefix).await?;
                total += keys.len() as u64;
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(total)
    }

    /// Removes every key under `prefix` (`<prefix>:…`) with `UNLINK`, one
    /// scan page at a time (on a Cluster, one `UNLINK` per key in a
    /// pipeline, so no call spans two slots). Returns how many were removed.
    pub async fn unlink_keys_under(&self, prefix: &str) -> Result<u64, Error> {
        let mut removed = 0u64;
        for target in self.conn.scan_targets().await? {
            let mut cursor = 0;
            loop {
                let (next, keys) = self.scan_page(&target, cursor, prefix).await?;
                removed += self.unlink(&keys).await?;
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(removed)
    }

    async fn unlink(&self, keys: &[String]) -> Result<u64, Error> {
        if keys.is_empty() {
            return Ok(0);
        }
        if !self.conn.is_cluster() {
            return redis::cmd("UNLINK")
                .arg(keys)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(Error::redis("unlink"));
        }
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("UNLINK").arg(key);
        }
        let counts: Vec<Value> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("unlink"))?;
        Ok(counts
            .iter()
            .filter(|v| matches!(v, Value::Int(n) if *n > 0))
            .count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_matches_only_under_the_prefix() {
        assert_eq!(pattern_under("jq"), "jq:*");
        assert_eq!(pattern_under("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\:*");
    }
}
