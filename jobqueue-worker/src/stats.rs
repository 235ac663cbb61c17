//! Flushing the in-memory counters to Redis.
//!
//! Each job only bumps an in-memory counter; about once a second the
//! counters are added to Redis in one pipeline: per queue totals, global
//! totals, and the per-minute (kept 2 hours) and per-day (kept 180 days)
//! history buckets the dashboard charts. A worker killed with SIGKILL loses
//! at most its last second of counts; job state is never affected.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;

use crate::runtime::Shared;

/// How long per-minute buckets are kept.
const MINUTE_BUCKET_TTL: Duration = Duration::from_secs(2 * 3600);
/// How long per-day buckets are kept.
const DAY_BUCKET_TTL: Duration = Duration::from_secs(180 * 24 * 3600);

/// Runs until the background stop token fires, then flushes once more.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(shared.config.stats_flush_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shared.stop_background.cancelled() => break,
        }
        if let Err(err) = flush(&shared).await {
            tracing::warn!(error = %err, "could not flush stats; will retry");
        }
    }
}

/// Adds the counters gathered since the last flush to Redis. On failure
/// the counts are put back, to be sent with the next flush.
pub(crate) async fn flush(shared: &Shared) -> Result<(), jobqueue_core::Error> {
    let taken: Vec<(u64, u64)> = shared
        .queues
        .iter()
        .map(|q| {
            (
                q.counters.processed.swap(0, Ordering::Relaxed),
                q.counters.failed.swap(0, Ordering::Relaxed),
            )
        })
        .collect();
    let (total_processed, total_failed) = taken
        .iter()
        .fold((0, 0), |(p, f), (qp, qf)| (p + qp, f + qf));
    if total_processed == 0 && total_failed == 0 {
        return Ok(());
    }
    let now = Utc::now();
    let day = now.format("%Y-%m-%d").to_string();
    let keys = shared.store.keys();
    let mut pipe = redis::pipe();
    for (queue, (processed, failed)) in shared.queues.iter().zip(&taken) {
        if processed + failed == 0 {
            continue;
        }
        let day_key = queue.keys.stats_day(&day);
        pipe.hincr(queue.keys.stats(), "processed", *processed)
            .ignore()
            .hincr(queue.keys.stats(), "failed", *failed)
            .ignore()
            .hincr(&day_key, "processed", *processed)
            .ignore()
            .hincr(&day_key, "failed", *failed)
            .ignore()
            .expire(&day_key, DAY_BUCKET_TTL.as_secs() as i64)
            .ignore();
    }
    for (bucket, ttl) in [
        (keys.stats_minute(now.timestamp() / 60), MINUTE_BUCKET_TTL),
        (keys.stats_day(&day), DAY_BUCKET_TTL),
    ] {
        pipe.hincr(&bucket, "processed", total_processed)
            .ignore()
            .hincr(&bucket, "failed", total_failed)
            .ignore()
            .expire(&bucket, ttl.as_secs() as i64)
            .ignore();
    }
    pipe.hincr(keys.stats(), "processed", total_processed)
        .ignore()
        .hincr(keys.stats(), "failed", total_failed)
        .ignore();
    let result = pipe
        .query_async::<()>(&mut shared.store.connection())
        .await
        .map_err(|source| jobqueue_core::Error::Redis {
            op: "flush_stats",
            source,
        });
    if result.is_err() {
        for (queue, (processed, failed)) in shared.queues.iter().zip(taken) {
            queue.counters.add_processed(processed);
            queue.counters.add_failed(failed);
        }
    }
    result
}
