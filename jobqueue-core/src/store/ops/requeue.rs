//! `requeue.lua`: operator action: waiting or dead jobs run now.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Moves jobs from a waiting set (`set_key`: the queue's scheduled,
    /// retry or dead set) to ready. `reset_attempts` gives them a fresh set
    /// of attempts. Returns how many moved.
    pub async fn requeue(
        &self,
        queue: &QueueKeys,
        set_key: &str,
        ids: &[String],
        reset_attempts: bool,
    ) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut call = SCRIPTS
            .requeue
            .call(&[set_key, queue.jobs(), queue.ready(), queue.priority()])
            .arg(queue.events())
            .arg(if reset_attempts { "1" } else { "0" });
        for id in ids {
            call.push_arg(id.as_str());
        }
        let reply: Value = call.invoke(&mut self.conn.clone(), "requeue").await?;
        Ok(u64::try_from(int_reply(&reply, "requeue")?).unwrap_or(0))
    }
}
