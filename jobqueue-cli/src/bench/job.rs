//! The benchmark job and its payload, identical in every system measured:
//! `{"user_id": i, "email": "user{i}@example.com", "action": "welcome",
//! "pad": "xxxxxxxxxxxxxxxxxxxxxxxx"}` (about 100 bytes).

use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError};
use serde::{Deserialize, Serialize};

use super::measurements;

/// The no-op benchmark job. It goes through the real path (lease, ack,
/// stats, retries armed); w3 and w4 jobs also carry a timestamp, the
/// retry-path variant of w1 fails each job once, and `caps` fails a
/// fraction of its jobs for good.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BenchJob {
    /// User id.
    pub(crate) user_id: u64,
    /// Email address.
    pub(crate) email: String,
    /// Action.
    pub(crate) action: String,
    /// Padding to ~100 bytes.
    pub(crate) pad: String,
    /// w3: when the producer enqueued it (ns since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sent_ns: Option<i64>,
    /// w4: when it is due (ns since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) due_ns: Option<i64>,
    /// w3 warm-up jobs are not measured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) warmup: bool,
    /// Fail the first attempt (w1 retry-path variant).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) fail_once: bool,
    /// `limits`: how long the job works, ms (its run is recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) work_ms: Option<u64>,
    /// w1 `--steps`: no-op memoised steps the job runs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) steps: u32,
    /// `caps`: after its log line the job fails with a permanent error, so
    /// it goes dead at once and keeps its log.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) fail_permanently: bool,
    /// `--payload-bytes`: order items that grow the payload to a size, as
    /// varied as real JSON (so compression is measured fairly).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) items: Vec<OrderItem>,
}

/// One order item of a `--payload-bytes` payload (~90 bytes of JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderItem {
    sku: String,
    qty: u64,
    price_cents: u64,
    label: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl BenchJob {
    /// The standard payload for user `i`.
    pub(crate) fn new(i: u64) -> Self {
        Self {
            user_id: i,
            email: format!("user{i}@example.com"),
            action: "welcome".to_owned(),
            pad: "x".repeat(24),
            sent_ns: None,
            due_ns: None,
            warmup: false,
            fail_once: false,
            work_ms: None,
            steps: 0,
            fail_permanently: false,
            items: Vec::new(),
        }
    }

    /// The standard payload for user `i`, grown with order items to at
    /// least `bytes` of JSON when given.
    pub(crate) fn sized(i: u64, bytes: Option<usize>) -> Self {
        let mut job = Self::new(i);
        let Some(bytes) = bytes else {
            return job;
        };
        let mut size = serde_json::to_vec(&job).map_or(0, |v| v.len());
        let mut k = 0u64;
        while size < bytes {
            let item = OrderItem {
                sku: format!("SKU-{:05}-{k:03}", (i * 7919 + k * 104_729) % 100_000),
                qty: (i * 31 + k * 7) % 13 + 1,
                price_cents: (k * 997 + i * 13) % 10_000,
                label: format!(
                    "item {k} of order {i}, colour {}",
                    ["red", "blue", "green", "black"][(k % 4) as usize]
                ),
            };
            size += serde_json::to_vec(&item).map_or(0, |v| v.len()) + 1;
            job.items.push(item);
            k += 1;
        }
        job
    }
}

impl Job for BenchJob {
    const NAME: &'static str = "bench";

    fn retry_delay(_retry: u32) -> Duration {
        Duration::ZERO
    }

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        measurements::mark_started();
        if let Some(work_ms) = self.work_ms {
            let started_ns = super::clock::now_ns();
            tokio::time::sleep(Duration::from_millis(work_ms)).await;
            measurements::record_run(started_ns, super::clock::now_ns());
            return Ok(());
        }
        if self.fail_once && ctx.attempt() == 1 {
            return Err(JobError::retry("fails once on purpose"));
        }
        // One log line per job: kept by `w1 --logs`, filtered out (the
        // CLI logs warnings only) otherwise.
        tracing::info!(user_id = self.user_id, "welcome sent");
        if self.fail_permanently {
            return Err(JobError::permanent("fails for good on purpose"));
        }
        for i in 0..self.steps {
            let i = u64::from(i);
            ctx.step_n("noop", i, || async move { Ok::<u64, JobError>(i) })
                .await?;
        }
        if !self.warmup {
            measurements::record_success(self.sent_ns.or(self.due_ns));
        }
        Ok(())
    }
}
