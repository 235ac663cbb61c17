//! Workflows as stored, outside the scripts: finding a workflow's queue,
//! reading its record and index, and the facts each node's state is rolled
//! up from (`crate::workflow::status`).

use std::collections::HashMap;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

const OP: &str = "workflow";

/// What Redis holds about one workflow node's current job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeFacts {
    /// Its dependency record's `state` (`pending`, `succeeded`, `failed`,
    /// `skipped`); `None` once the record expired.
    pub parent_state: Option<String>,
    /// Its status's `state` (`queued`, `running`, `cancelled`, …).
    pub status_state: Option<String>,
    /// Its status's `error`.
    pub status_error: Option<String>,
    /// Its deps hash's `left` (`released`, `dead`, `skipped`) and
    /// `failed_parent`, for a node that waited for parents.
    pub left: Option<String>,
    /// The parent a skipped or dead-lettered node failed for.
    pub failed_parent: Option<String>,
}

impl Store {
    /// Which of `queues` holds workflow `id`'s record (the first that does).
    pub async fn workflow_queue(
        &self,
        id: &str,
        queues: &[QueueKeys],
    ) -> Result<Option<usize>, Error> {
        if queues.is_empty() {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        for queue in queues {
            pipe.exists(queue.workflow(id));
        }
        let found: Vec<bool> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        Ok(found.iter().position(|hit| *hit))
    }

    /// Workflow `id`'s record on `queue` (empty when it has none).
    pub async fn workflow_record(
        &self,
        queue: &QueueKeys,
        id: &str,
    ) -> Result<HashMap<String, String>, Error> {
        redis::cmd("HGETALL")
            .arg(queue.workflow(id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))
    }

    /// The newest `limit` workflow ids of `queue`'s index, with their
    /// creation time (ms), newest first.
    pub async fn workflow_ids(
        &self,
        queue: &QueueKeys,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let entries: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
            .arg(queue.workflows())
            .arg(0)
            .arg(limit - 1)
            .arg("WITHSCORES")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        Ok(entries
            .into_iter()
            .map(|(id, created)| (id, created as i64))
            .collect())
    }

    /// The facts of each node job (its queue, its id), in one pipelined
    /// round trip.
    pub async fn workflow_node_facts(
        &self,
        nodes: &[(QueueKeys, String)],
    ) -> Result<Vec<NodeFacts>, Error> {
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (queue, id) in nodes {
            pipe.cmd("HGET").arg(queue.parent(id)).arg("state");
            pipe.cmd("HMGET")
                .arg(queue.status(id))
                .arg("state")
                .arg("error");
            pipe.cmd("HMGET")
                .arg(queue.deps(id))
                .arg("left")
                .arg("failed_parent");
        }
        let replies: Vec<Value> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis(OP))?;
        Ok(replies
            .chunks(3)
            .map(|three| {
                let text = |v: &Value| {
                    redis::from_redis_value::<Option<String>>(v.clone())
                        .ok()
                        .flatten()
                };
                let pair = |v: &Value| {
                    redis::from_redis_value::<Vec<Option<String>>>(v.clone()).unwrap_or_default()
                };
                let status = pair(&three[1]);
                let deps = three.get(2).map(pair).unwrap_or_default();
                NodeFacts {
                    parent_state: text(&three[0]),
                    status_state: status.first().cloned().flatten(),
                    status_error: status.get(1).cloned().flatten(),
                    left: deps.first().cloned().flatten(),
                    failed_parent: deps.get(1).cloned().flatten(),
                }
            })
            .collect())
    }
}
