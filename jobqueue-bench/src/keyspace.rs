//! A fresh key prefix per run, and deleting its keys afterwards.

/// A run's own prefix under the configured one.
pub(crate) fn run_prefix(base: &str) -> String {
    format!(
        "{base}-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Deletes every key under `prefix` (SCAN + UNLINK, in the background of Redis).
pub(crate) async fn delete_keys(url: &str, prefix: &str) -> Result<u64, String> {
    let mut conn = redis::Client::open(url)
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let mut cursor = 0u64;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        if !keys.is_empty() {
            deleted += keys.len() as u64;
            redis::cmd("UNLINK")
                .arg(&keys)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}
