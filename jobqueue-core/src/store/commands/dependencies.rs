//! Job chains as stored, outside the scripts: reading a job's dependency
//! state and its parents' states for the operator, dropping the state of
//! jobs an operator took out of the waiting place, and finding which queue
//! holds a parent's record.

use std::collections::HashMap;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// A job's dependency records, as the operator's view reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DependencyRecords {
    /// The job's own deps hash (`P:{Q}:deps:<id>`): parents needed, the
    /// outcome recorded per parent (`p:<parent id>`), policy, …
    pub deps: HashMap<String, String>,
    /// The fields of its parent hash naming its children (`c|<queue>|<id>`).
    pub children: Vec<String>,
    /// Each parent's `state`, read from the parent's own hash (in the order
    /// of the parent hashes given).
    pub parent_states: Vec<Option<String>>,
}

impl Store {
    /// Job `id`'s dependency records on `queue` and the `state` of each of
    /// `parent_hashes` (the parents' `P:{Q}:parent:<id>` keys), in one
    /// pipelined round trip.
    pub async fn dependency_records(
        &self,
        queue: &QueueKeys,
        id: &str,
        parent_hashes: &[String],
    ) -> Result<DependencyRecords, Error> {
        let mut pipe = redis::pipe();
        pipe.hgetall(queue.deps(id)).hkeys(queue.parent(id));
        for parent in parent_hashes {
            pipe.hget(parent, "state");
        }
        let mut replies: Vec<Value> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("dependencies"))?;
        let parent_states = replies
            .split_off(2.min(replies.len()))
            .into_iter()
            .map(|v| redis::from_redis_value(v).ok().flatten())
            .collect();
        let mut own = replies.into_iter();
        Ok(DependencyRecords {
            deps: own
                .next()
                .and_then(|v| redis::from_redis_value(v).ok())
                .unwrap_or_default(),
            children: own
                .next()
                .and_then(|v| redis::from_redis_value(v).ok())
                .unwrap_or_default(),
            parent_states,
        })
    }

    /// The `state` and `result` of each of `parent_hashes` (parents'
    /// `P:{Q}:parent:<id>` keys, on any queues), in one pipelined round
    /// trip: what a dependent reads of its parents' results.
    pub async fn parent_outputs(
        &self,
        parent_hashes: &[String],
    ) -> Result<Vec<(Option<String>, Option<String>)>, Error> {
        let mut pipe = redis::pipe();
        for parent in parent_hashes {
            pipe.cmd("HMGET").arg(parent).arg("state").arg("result");
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("parent_result"))
    }

    /// Drops the deps hashes of `ids` on `queue`.
    pub async fn delete_dependency_records(
        &self,
        queue: &QueueKeys,
        ids: &[String],
    ) -> Result<(), Error> {
        let keys: Vec<String> = ids.iter().map(|id| queue.deps(id)).collect();
        redis::cmd("DEL")
            .arg(&keys)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map(|_| ())
            .map_err(Error::redis("forget_dependencies"))
    }

    /// For each of `ids` and each of `queues` (row by row), whether the
    /// queue holds the job's parent record.
    pub async fn parent_records_exist(
        &self,
        ids: &[String],
        queues: &[QueueKeys],
    ) -> Result<Vec<bool>, Error> {
        let mut pipe = redis::pipe();
        for id in ids {
            for queue in queues {
                pipe.exists(queue.parent(id));
            }
        }
        pipe.query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("enqueue_after"))
    }
}
