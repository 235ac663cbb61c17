//! `purge.lua`: operator action: drop every ready job of a queue, in one
//! step (its ready list and priority set are renamed to the purge's own
//! keys), then `purge_memos.lua` drops the purged jobs' durable memos page
//! by page.

use std::time::Duration;

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

/// How long a purge's keys live: an operator process that dies half-way
/// through a purge leaves them at most this long.
const PURGE_KEYS_TTL: Duration = Duration::from_secs(24 * 3600);

/// A purge whose jobs left the queue but whose memos may still wait to be
/// dropped ([`Store::purge_memos`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeInProgress {
    /// The purged ready list (`P:{Q}:purging:<token>`).
    pub(crate) list: String,
    /// The purged priority set (`P:{Q}:purging:<token>:priority`).
    pub(crate) priority: String,
}

impl Store {
    /// Drops every ready job of `queue` in one step. Returns how many were
    /// dropped, and the purge whose memos [`Store::purge_memos`] drops.
    pub async fn purge(&self, queue: &QueueKeys) -> Result<(u64, PurgeInProgress), Error> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let purge = PurgeInProgress {
            list: queue.purging(&token),
            priority: queue.purging_priority(&token),
        };
        let reply: Value = SCRIPTS
            .purge
            .call(&[
                queue.ready(),
                queue.priority(),
                &purge.list,
                &purge.priority,
            ])
            .arg(u64::try_from(PURGE_KEYS_TTL.as_millis()).unwrap_or(u64::MAX))
            .invoke(&mut self.conn.clone(), "purge")
            .await?;
        Ok((
            u64::try_from(int_reply(&reply, "purge")?).unwrap_or(0),
            purge,
        ))
    }
}
