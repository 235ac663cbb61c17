//! `login_attempt.lua`: may this dashboard sign-in attempt be checked?
//!
//! Called by the operator API ([`crate::Admin::login_attempt`]) before the
//! dashboard checks a sign-in form's credentials.

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Counts one sign-in attempt from address `client` (not counted when
    /// `None`) at the user name whose SHA-256 is `user_digest` (hex), unless
    /// `per_client` or `per_user` attempts were counted in the window
    /// (`window_ms`) already. Returns `None` when counted (the attempt may
    /// go on), or how many ms until the blocking window ends.
    pub async fn login_attempt(
        &self,
        client: Option<&str>,
        user_digest: &str,
        (per_client, per_user): (u32, u32),
        window_ms: u64,
    ) -> Result<Option<u64>, Error> {
        let client_key = self
            .keys
            .login_attempts(&format!("ip:{}", client.unwrap_or("unknown")));
        let user_key = self.keys.login_attempts(&format!("user:{user_digest}"));
        let (allowed, wait_ms): (u8, u64) = SCRIPTS
            .login_attempt
            .call(&[&client_key, &user_key])
            .arg(if client.is_some() { per_client } else { 0 })
            .arg(per_user)
            .arg(window_ms.max(1))
            .invoke(&mut self.conn.clone(), "login_attempt")
            .await?;
        Ok((allowed == 0).then_some(wait_ms.max(1)))
    }
}
