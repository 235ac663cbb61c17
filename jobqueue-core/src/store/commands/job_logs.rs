//! A job's per-attempt logs (`P:{Q}:logs:<id>`, a hash: attempt number →
//! JSON array of lines): written by the worker when an attempt ends (see
//! `docs/search-logs-events.md`, "Logs"), read by the operator's job view.
//! Deleted with the job's record by `drop_memos` (`lua/include/flow.lua`)
//! on every removal path; the TTL bounds whatever a crash leaves behind.

use std::time::Duration;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// What the worker writes for one job when an attempt ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobLogWrite {
    /// The attempt ended with the record kept (retry, dead): store its
    /// lines under its attempt number and renew the key's TTL.
    Attempt {
        /// The job's id.
        job_id: String,
        /// The attempt's number, from 1.
        attempt: u32,
        /// The attempt's lines as a JSON array of strings.
        lines_json: String,
    },
    /// The job succeeded and its record is gone: its logs go too.
    Drop {
        /// The job's id.
        job_id: String,
    },
}

/// One attempt's log as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttemptLog {
    /// The attempt's number, from 1.
    pub attempt: u32,
    /// Its lines, oldest first (the last one may say how many were dropped).
    pub lines: Vec<String>,
}

impl Store {
    /// Writes the logs of attempts that just ended, all in one pipelined
    /// round trip (every key is in `queue`'s slot). `ttl` bounds each key.
    pub async fn write_job_logs(
        &self,
        queue: &QueueKeys,
        writes: &[JobLogWrite],
        ttl: Duration,
    ) -> Result<(), Error> {
        if writes.is_empty() {
            return Ok(());
        }
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        for write in writes {
            match write {
                JobLogWrite::Attempt {
                    job_id,
                    attempt,
                    lines_json,
                } => {
                    let key = queue.logs(job_id);
                    pipe.cmd("HSET")
                        .arg(&key)
                        .arg(attempt)
                        .arg(lines_json)
                        .ignore();
                    pipe.cmd("PEXPIRE").arg(&key).arg(ttl_ms).ignore();
                }
                JobLogWrite::Drop { job_id } => {
                    pipe.cmd("DEL").arg(queue.logs(job_id)).ignore();
                }
            }
        }
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("write_job_logs"))
    }

    /// Reads job `id`'s logs, one entry per attempt in attempt order. A
    /// stored value that is not a JSON array of strings is shown as one
    /// line saying so, not an error: the rest stays readable.
    pub async fn job_logs(&self, queue: &QueueKeys, id: &str) -> Result<Vec<AttemptLog>, Error> {
        let fields: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(queue.logs(id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_logs"))?;
        let mut logs: Vec<AttemptLog> = fields
            .into_iter()
            .filter_map(|(attempt, value)| {
                let attempt = attempt.parse::<u32>().ok()?;
                let lines = serde_json::from_str::<Vec<String>>(&value).unwrap_or_else(|_| {
                    vec![format!("(unreadable log entry of {} bytes)", value.len())]
                });
                Some(AttemptLog { attempt, lines })
            })
            .collect();
        logs.sort_by_key(|log| log.attempt);
        Ok(logs)
    }
}
