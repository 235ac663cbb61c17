//! Reading a queue's info after a fault, retried.

use std::time::Duration;

use jobqueue_testing::TestRedis;

/// The info of queue `default`, retried: a scenario that cut connections or
/// restarted Redis may have broken the client's connection last (its next
/// call fails once, then it reconnects).
pub async fn queue_info(env: &TestRedis) -> jobqueue_core::QueueInfo {
    for _ in 0..5 {
        if let Ok(info) = env.client().admin().queue("default").await {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("queue info unreadable after the fault");
}
