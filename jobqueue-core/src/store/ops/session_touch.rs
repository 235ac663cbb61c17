//! `session_touch.lua`: look up a dashboard session and renew its idle
//! timeout.
//!
//! Called by the operator API ([`crate::Admin::dashboard_session`]) for
//! each dashboard request that carries a session cookie.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::scripts::SCRIPTS;

/// What a live session says: name, credential kind, role, absolute expiry
/// (ms, Redis clock).
pub type SessionFields = (String, String, String, i64);

impl Store {
    /// The live session whose id hashes to `id_digest`, its idle timeout
    /// renewed to `idle_ms` (never past its absolute expiry); `None` when
    /// there is none or it expired (then it is deleted).
    pub async fn session_touch(
        &self,
        id_digest: &str,
        idle_ms: u64,
    ) -> Result<Option<SessionFields>, Error> {
        let key = self.keys.dashboard_session(id_digest);
        let fields: Vec<String> = SCRIPTS
            .session_touch
            .call(&[&key])
            .arg(idle_ms.max(1))
            .invoke(&mut self.conn.clone(), "session_touch")
            .await?;
        let Ok([name, kind, role, expires]) = <[String; 4]>::try_from(fields) else {
            // An empty reply: no such live session.
            return Ok(None);
        };
        // Something else wrote the hash: not a session.
        Ok(expires
            .parse()
            .ok()
            .map(|expires| (name, kind, role, expires)))
    }
}
