//! `unlock.lua`: release a lock only if this process still holds it.
//!
//! Releases the migration lock ([`crate::store::schema::Migrator::run`]).

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Releases the lock at `lock_key` if `token` (written when it was
    /// taken) still holds it. Returns whether it was released.
    pub async fn unlock(&self, lock_key: &str, token: &str) -> Result<bool, Error> {
        let reply: Value = SCRIPTS
            .unlock
            .call(&[lock_key])
            .arg(token)
            .invoke(&mut self.conn.clone(), "unlock")
            .await?;
        Ok(int_reply(&reply, "unlock")? == 1)
    }
}
