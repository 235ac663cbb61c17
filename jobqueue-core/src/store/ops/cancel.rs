//! `cancel.lua`: cancel one job, wherever it waits or runs.
//!
//! Called by [`crate::Client::cancel`]; also here, the scan that finds a
//! ready job's record (outside Redis, so a long queue never blocks it).

use redis::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::store::commands::job_sets::{MAX_FINISHED_AGE_MS, MAX_FINISHED_KEPT};
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::array_reply;
use crate::store::scripts::SCRIPTS;
use crate::wire::record::{decode_record, record_id_bytes};

/// Records read per round trip while looking for a ready job.
const SCAN_PAGE: isize = 1000;

/// Where a job was when `cancel.lua` cancelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledFrom {
    /// Waiting in the ready list or priority set.
    Ready,
    /// Scheduled for later.
    Scheduled,
    /// Waiting for a retry.
    Retry,
    /// Waiting for its parents.
    Waiting,
    /// Leased by a worker: its token is fired there.
    Active,
}

impl Store {
    /// One `cancel.lua` call; `None` when the job was not found.
    pub(crate) async fn cancel_once(
        &self,
        queue: &QueueKeys,
        id: Uuid,
        candidate: Option<&[u8]>,
    ) -> Result<Option<CancelledFrom>, Error> {
        const OP: &str = "cancel";
        let workers: Vec<String> = redis::cmd("ZRANGE")
            .arg(queue.leases())
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        let active: Vec<String> = workers.iter().map(|w| queue.active(w)).collect();
        let cancelled = queue.cancelled();
        let releases = queue.releases();
        let parent = queue.parent(&id.to_string());
        let mut keys: Vec<&str> = vec![
            queue.scheduled(),
            queue.retry(),
            queue.jobs(),
            queue.ready(),
            queue.priority(),
            &cancelled,
            queue.stats(),
            queue.waiting(),
            &releases,
            &parent,
        ];
        keys.extend(active.iter().map(String::as_str));
        let reply: Value = SCRIPTS
            .cancel
            .call(&keys)
            .arg(queue.events())
            .arg(id.to_string())
            .arg(candidate.unwrap_or_default())
            .arg(MAX_FINISHED_KEPT)
            .arg(MAX_FINISHED_AGE_MS)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        let parts = array_reply(reply, OP)?;
        let text = |v: &Value| match v {
            Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        };
        let (from, record) = match parts.as_slice() {
            [status, from, Value::BulkString(record)] if text(status) == "cancelled" => {
                let from = match text(from).as_str() {
                    "ready" => CancelledFrom::Ready,
                    "scheduled" => CancelledFrom::Scheduled,
                    "retry" => CancelledFrom::Retry,
                    "waiting" => CancelledFrom::Waiting,
                    "active" => CancelledFrom::Active,
                    other => return Err(Error::protocol(OP, format!("unknown place {other:?}"))),
                };
                (from, record)
            }
            [status, _, _] if text(status) == "not_found" => return Ok(None),
            _ => return Err(Error::protocol(OP, "reply is not {status, place, record}")),
        };
        if from == CancelledFrom::Waiting {
            // Its dependency state has nobody left to tell.
            redis::cmd("DEL")
                .arg(queue.deps(&id.to_string()))
                .query_async::<i64>(&mut self.conn.clone())
                .await
                .map_err(Error::redis(OP))?;
        }
        let envelope = decode_record(record).ok().map(|(envelope, _)| envelope);
        // (A unique job's lock was freed by cancel.lua in the same step.)
        // A cancelled parent never succeeds: tell its dependents (the
        // sweeper does if this fails).
        if envelope.is_some_and(|e| e.dependents) {
            self.apply_releases(queue, &[format!("{id}|failed")])
                .await?;
        }
        Ok(Some(from))
    }

    /// Finds the exact record of job `id` in the ready list or priority
    /// set, a page at a time (never one long command on a long queue).
    pub(crate) async fn find_ready_record(
        &self,
        queue: &QueueKeys,
        id: Uuid,
    ) -> Result<Option<Vec<u8>>, Error> {
        const OP: &str = "cancel";
        let wanted = id.to_string();
        let matches = |record: &Vec<u8>| record_id_bytes(record) == Some(wanted.as_bytes());
        for (command, key) in [("LRANGE", queue.ready()), ("ZRANGE", queue.priority())] {
            let mut start: isize = 0;
            loop {
                let page: Vec<Vec<u8>> = redis::cmd(command)
                    .arg(key)
                    .arg(start)
                    .arg(start + SCAN_PAGE - 1)
                    .query_async(&mut self.conn.clone())
                    .await
                    .map_err(Error::redis(OP))?;
                if let Some(record) = page.iter().find(|r| matches(r)) {
                    return Ok(Some(record.clone()));
                }
                if (page.len() as isize) < SCAN_PAGE {
                    break;
                }
                start += SCAN_PAGE;
            }
        }
        Ok(None)
    }
}
