//! `session_open.lua`: open a dashboard sign-in session.
//!
//! Called by the operator API ([`crate::Admin::open_dashboard_session`])
//! when a dashboard sign-in succeeds.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Stores the session whose id hashes to `id_digest` (hex): who signed
    /// in (`name`, credential `kind`, `role`), alive `idle_ms` from each
    /// use and at most `lifetime_ms` from now. Returns its absolute expiry
    /// (ms, Redis clock).
    pub async fn session_open(
        &self,
        id_digest: &str,
        (name, kind, role): (&str, &str, &str),
        idle_ms: u64,
        lifetime_ms: u64,
    ) -> Result<i64, Error> {
        let key = self.keys.dashboard_session(id_digest);
        SCRIPTS
            .session_open
            .call(&[&key])
            .arg(name)
            .arg(kind)
            .arg(role)
            .arg(idle_ms.max(1))
            .arg(lifetime_ms.max(1))
            .invoke(&mut self.conn.clone(), "session_open")
            .await
    }
}
