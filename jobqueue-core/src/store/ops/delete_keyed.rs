//! `delete_keyed.lua`: operator action: delete keyed jobs waiting in their
//! flow keys' lists.

use crate::store::releases::delete_call;
use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Deletes keyed jobs waiting in their flow keys' lists
    /// (`delete_keyed.lua`); ids not waiting there are skipped.
    pub async fn delete_keyed(&self, queue: &QueueKeys, ids: &[String]) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let reply: Value = delete_call(&SCRIPTS.delete_keyed, &[queue.jobs()], queue, ids)
            .invoke(&mut self.conn.clone(), "delete_keyed")
            .await?;
        self.tell_children_of_deleted(queue, reply, "delete_keyed")
            .await
    }
}
