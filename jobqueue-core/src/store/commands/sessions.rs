//! Dashboard sign-in state besides its scripts: ending a session, and
//! clearing a user name's sign-in attempts after a successful sign-in.

use crate::error::Error;
use crate::store::handle::Store;

impl Store {
    /// Deletes the session whose id hashes to `id_digest`; true when there
    /// was one.
    pub async fn session_end(&self, id_digest: &str) -> Result<bool, Error> {
        let deleted: u64 = redis::cmd("DEL")
            .arg(self.keys.dashboard_session(id_digest))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("session_end"))?;
        Ok(deleted > 0)
    }

    /// Forgets the sign-in attempts counted at the user name whose SHA-256
    /// is `user_digest` (after that user signed in).
    pub async fn login_attempts_clear(&self, user_digest: &str) -> Result<(), Error> {
        redis::cmd("DEL")
            .arg(self.keys.login_attempts(&format!("user:{user_digest}")))
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("login_attempts_clear"))
    }
}
