//! `cron_set.lua`: set one field of an existing cron entry.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Sets one field of an existing entry; false when there is no such entry.
    pub async fn cron_set(
        &self,
        queue: &QueueKeys,
        name: &str,
        field: &str,
        value: &str,
    ) -> Result<bool, Error> {
        let reply: Value = SCRIPTS
            .cron_set
            .call(&[&queue.cron(name)])
            .arg(field)
            .arg(value)
            .invoke(&mut self.conn.clone(), "cron_set")
            .await?;
        Ok(int_reply(&reply, "cron_set")? == 1)
    }
}
