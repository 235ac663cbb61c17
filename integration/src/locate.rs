//! Where each job of a queue is, read in one atomic snapshot.

use std::collections::HashMap;

use jobqueue_testing::TestRedis;

/// A test-only script listing every job of a queue with its place. It
/// builds active-hash names from the lease set and finds the flow keys'
/// lists with `KEYS`, which only a single, non-cluster Redis allows.
const SNAPSHOT: &str = r#"
    local out = {}
    for _, r in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do out[#out+1] = 'ready'; out[#out+1] = string.sub(r, 8, 43) end
    for _, r in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do out[#out+1] = 'priority'; out[#out+1] = string.sub(r, 8, 43) end
    for i, place in ipairs({'scheduled', 'retry', 'dead'}) do
      for _, id in ipairs(redis.call('ZRANGE', KEYS[2 + i], 0, -1)) do out[#out+1] = place; out[#out+1] = id end
    end
    for _, id in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do out[#out+1] = 'waiting'; out[#out+1] = id end
    for _, worker in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do
      for _, id in ipairs(redis.call('HKEYS', ARGV[1] .. worker)) do out[#out+1] = 'active'; out[#out+1] = id end
    end
    for _, list in ipairs(redis.call('KEYS', ARGV[2] .. '*')) do
      for _, id in ipairs(redis.call('LRANGE', list, 0, -1)) do out[#out+1] = 'keyed'; out[#out+1] = id end
    end
    for _, r in ipairs(redis.call('LRANGE', KEYS[8], 0, -1)) do out[#out+1] = 'purging'; out[#out+1] = string.sub(r, 8, 43) end
    return out
"#;

/// Job id → every place it is found in `queue` (ready, priority,
/// scheduled, retry, dead, waiting for parents, active, keyed: waiting in
/// a flow key's list, purging: taken aside by an operator's purge that was
/// interrupted), from one atomic snapshot. A healthy
/// queue lists each waiting job exactly once (DESIGN.md invariant 1).
pub async fn locate_jobs(env: &TestRedis, queue: &str) -> HashMap<String, Vec<String>> {
    let q = env.client().store().queue_keys(queue).expect("valid queue");
    let mut conn = env.connection().await.expect("connect to the test Redis");
    let flat: Vec<String> = redis::Script::new(SNAPSHOT)
        .key(q.ready())
        .key(q.priority())
        .key(q.scheduled())
        .key(q.retry())
        .key(q.dead())
        .key(q.leases())
        .key(q.waiting())
        .key(q.purging())
        .arg(q.active(""))
        .arg(q.flow_list(""))
        .invoke_async(&mut conn)
        .await
        .expect("snapshot script");
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for pair in flat.chunks(2) {
        seen.entry(pair[1].clone())
            .or_default()
            .push(pair[0].clone());
    }
    seen
}
