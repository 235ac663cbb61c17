//! The delivery audit: which accepted jobs ran, which were lost, which ran
//! more than once — read from the traces `TestJob` leaves in Redis.

use std::collections::HashMap;

use jobqueue_testing::TestRedis;
use uuid::Uuid;

use crate::traces::{TestJobTraces, trace_counts};

/// What happened to a set of accepted jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryAudit {
    /// Jobs the producer got an id back for.
    pub accepted: u64,
    /// Accepted jobs that never finished successfully.
    pub lost: u64,
    /// Ids of (up to 20 of) the lost jobs, for the failure message.
    pub lost_sample: Vec<String>,
    /// Extra starts: the sum over jobs of (runs started − 1).
    pub duplicate_starts: u64,
    /// Jobs started more than once.
    pub jobs_started_twice: u64,
    /// Extra successful finishes: the sum over jobs of (runs finished − 1).
    pub duplicate_finishes: u64,
    /// Most starts of any one job.
    pub max_starts: u64,
}

impl DeliveryAudit {
    /// Audits `accepted` against the traces of `env`.
    pub async fn of(env: &TestRedis, accepted: &[Uuid]) -> Self {
        Self::read(env.url(), &env.trace_key(), accepted).await
    }

    /// Audits `accepted` against the traces under `trace_key` in the Redis
    /// at `url` (scenarios that cut the queue's Redis keep traces elsewhere).
    pub async fn read(url: &str, trace_key: &str, accepted: &[Uuid]) -> Self {
        let started = trace_counts(url, &format!("{trace_key}:started")).await;
        let done = trace_counts(url, &format!("{trace_key}:done")).await;
        Self::from_traces(accepted, &started, &done)
    }

    /// Audits `accepted` against trace maps (job id → count).
    pub fn from_traces(
        accepted: &[Uuid],
        started: &HashMap<String, u64>,
        done: &HashMap<String, u64>,
    ) -> Self {
        let mut audit = Self {
            accepted: accepted.len() as u64,
            ..Self::default()
        };
        for id in accepted {
            let id = id.to_string();
            let starts = started.get(&id).copied().unwrap_or(0);
            let finishes = done.get(&id).copied().unwrap_or(0);
            if finishes == 0 {
                audit.lost += 1;
                if audit.lost_sample.len() < 20 {
                    audit.lost_sample.push(format!("{id} (started {starts}×)"));
                }
            }
            if starts > 1 {
                audit.jobs_started_twice += 1;
                audit.duplicate_starts += starts - 1;
            }
            audit.duplicate_finishes += finishes.saturating_sub(1);
            audit.max_starts = audit.max_starts.max(starts);
        }
        audit
    }

    /// Panics with the lost jobs when any accepted job never finished.
    pub fn assert_none_lost(&self) {
        assert_eq!(
            self.lost, 0,
            "{} of {} accepted jobs never finished: {:?}",
            self.lost, self.accepted, self.lost_sample
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lost_and_duplicated_jobs() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let started = HashMap::from([(ids[0].to_string(), 1), (ids[1].to_string(), 3)]);
        let done = HashMap::from([(ids[0].to_string(), 1), (ids[1].to_string(), 2)]);
        let audit = DeliveryAudit::from_traces(&ids, &started, &done);
        assert_eq!(audit.accepted, 3);
        assert_eq!(audit.lost, 1);
        assert_eq!(audit.duplicate_starts, 2);
        assert_eq!(audit.jobs_started_twice, 1);
        assert_eq!(audit.duplicate_finishes, 1);
        assert_eq!(audit.max_starts, 3);
    }
}
