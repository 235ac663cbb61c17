//! [`StepJob`]: a workflow step for the results and workflow tests. It
//! sums the results its parents left, adds its own `add`, and leaves the
//! sum as its result; it records what it saw in Redis under `key`:
//!
//! * `{key}:ran` hash: label → runs finished successfully
//! * `{key}:seen:{label}` string: the parents' outputs it read, JSON
//!   `[[state, result], …]` in the order of its parents
//! * `{key}:errors` list: errors `set_result` returned
//!
//! It fails permanently while `{key}:broken:{label}` exists (a test
//! deletes it to let a retry succeed), and sleeps `sleep_ms` first.

use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError, ParentState};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// See the module docs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepJob {
    /// Redis to record into.
    pub url: String,
    /// Key stem of the traces.
    pub key: String,
    /// The step's label in the traces.
    pub label: String,
    /// Added to the parents' results.
    pub add: i64,
    /// Sleep this long first.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Leave a string result of this many bytes instead of the sum.
    #[serde(default)]
    pub result_bytes: usize,
}

impl StepJob {
    /// A step labelled `label` adding `add`.
    pub fn new(url: &str, key: &str, label: &str, add: i64) -> Self {
        Self {
            url: url.to_owned(),
            key: key.to_owned(),
            label: label.to_owned(),
            add,
            ..Self::default()
        }
    }
}

impl Job for StepJob {
    const NAME: &'static str = "step_job";
    const MAX_ATTEMPTS: u32 = 1;

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let client = redis::Client::open(self.url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        }
        let broken: bool = conn
            .exists(format!("{}:broken:{}", self.key, self.label))
            .await?;
        if broken {
            return Err(JobError::permanent(format!(
                "step {} is broken",
                self.label
            )));
        }
        let outputs = ctx
            .parent_results::<i64>()
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
        let seen: Vec<(String, Option<i64>)> = outputs
            .iter()
            .map(|output| {
                let state = match output.state {
                    ParentState::Succeeded => "succeeded",
                    ParentState::Failed => "failed",
                    ParentState::Pending => "pending",
                    ParentState::Unknown => "unknown",
                };
                (state.to_owned(), output.result)
            })
            .collect();
        let sum: i64 = self.add + outputs.iter().filter_map(|o| o.result).sum::<i64>();
        if self.result_bytes > 0 {
            if let Err(err) = ctx.set_result(&"x".repeat(self.result_bytes)) {
                let _: i64 = conn
                    .rpush(format!("{}:errors", self.key), err.to_string())
                    .await?;
            }
        } else {
            ctx.set_result(&sum)
                .map_err(|e| JobError::permanent(e.to_string()))?;
        }
        let seen = serde_json::to_string(&seen).unwrap_or_default();
        let _: () = redis::pipe()
            .set(format!("{}:seen:{}", self.key, self.label), seen)
            .ignore()
            .hincr(format!("{}:ran", self.key), &self.label, 1)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
