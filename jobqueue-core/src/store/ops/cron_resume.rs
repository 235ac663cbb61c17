//! `cron_resume.lua`: resume a paused cron entry, skipping the ticks it
//! missed.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Resumes a paused entry, skipping the ticks it missed
    /// (`cron_resume.lua`). Returns 1 (resumed), 0 (was not paused) or -1
    /// (no such entry).
    pub async fn cron_resume(&self, queue: &QueueKeys, name: &str) -> Result<i64, Error> {
        let reply: Value = SCRIPTS
            .cron_resume
            .call(&[&queue.cron(name)])
            .invoke(&mut self.conn.clone(), "cron_resume")
            .await?;
        int_reply(&reply, "cron_resume")
    }
}
