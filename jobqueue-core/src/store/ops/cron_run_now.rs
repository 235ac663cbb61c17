//! `cron_run_now.lua`: an extra run of a cron entry, ready at once.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Enqueues an extra run now (`cron_run_now.lua`); false when there is no such entry.
    pub async fn cron_run_now(
        &self,
        queue: &QueueKeys,
        name: &str,
        record: &[u8],
    ) -> Result<bool, Error> {
        let reply: Value = SCRIPTS
            .cron_run_now
            .call(&[&queue.cron(name), queue.ready(), queue.priority()])
            .arg(queue.events())
            .arg(record)
            .invoke(&mut self.conn.clone(), "cron_run_now")
            .await?;
        Ok(int_reply(&reply, "cron_run_now")? == 1)
    }
}
