//! Redis memory as `INFO memory` reports it, for the memory scenarios.

use jobqueue_testing::TestRedis;

/// `used_memory` from `INFO memory`.
pub async fn used_memory(env: &TestRedis) -> u64 {
    let mut conn = env.connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("used_memory in INFO memory")
}
