//! Dashboard sign-in state in Redis: sessions and sign-in throttling, so
//! every dashboard replica shares them.
//!
//! A session is named by the SHA-256 of a random id only the browser's
//! cookie holds (the dashboard makes the id and hashes it; this API sees
//! the digest only), so reading Redis does not give anyone a session. It
//! lives for an idle timeout renewed by each use, and never past an
//! absolute lifetime fixed when it opened (both on the Redis clock).
//!
//! Sign-in attempts are counted per client address and per user name in
//! fixed windows; each attempt is counted before its password is checked
//! (parallel guesses cannot all slip in before the first failure is
//! counted), and a successful sign-in clears its user name's count.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::admin::handle::Admin;
use crate::admin::jobs::millis_to_datetime;
use crate::error::Error;

/// Who a dashboard session belongs to, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    /// The principal's name (credential label or user name).
    pub name: String,
    /// Which kind of credential signed in (`basic`, `bearer`).
    pub kind: String,
    /// The role it signed in with (`operator`, `read_only`).
    pub role: String,
    /// When the session ends whatever its use (Redis clock).
    pub expires_at: DateTime<Utc>,
}

/// Checks a digest names a session or user: 64 lowercase hex digits.
fn check_digest(digest: &str) -> Result<(), Error> {
    if digest.len() == 64
        && digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "dashboard_session",
            "a session or user digest is 64 lowercase hex digits (a SHA-256)",
        ))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Admin {
    /// Opens the session whose id hashes to `id_digest` for `session`'s
    /// principal (its `expires_at` is ignored): alive `idle` after each
    /// use, `lifetime` at most. Returns when it ends at the latest.
    pub async fn open_dashboard_session(
        &self,
        id_digest: &str,
        session: &DashboardSession,
        idle: Duration,
        lifetime: Duration,
    ) -> Result<DateTime<Utc>, Error> {
        check_digest(id_digest)?;
        let expires = self
            .store
            .session_open(
                id_digest,
                (&session.name, &session.kind, &session.role),
                millis(idle),
                millis(lifetime),
            )
            .await?;
        Ok(millis_to_datetime(expires).unwrap_or_else(Utc::now))
    }

    /// The live session whose id hashes to `id_digest`, its idle timeout
    /// renewed to `idle`; `None` when it ended (idle, past its lifetime,
    /// or signed out).
    pub async fn dashboard_session(
        &self,
        id_digest: &str,
        idle: Duration,
    ) -> Result<Option<DashboardSession>, Error> {
        check_digest(id_digest)?;
        let found = self.store.session_touch(id_digest, millis(idle)).await?;
        Ok(found.and_then(|(name, kind, role, expires)| {
            Some(DashboardSession {
                name,
                kind,
                role,
                expires_at: millis_to_datetime(expires)?,
            })
        }))
    }

    /// Ends the session whose id hashes to `id_digest` (sign-out); true
    /// when there was one.
    pub async fn end_dashboard_session(&self, id_digest: &str) -> Result<bool, Error> {
        check_digest(id_digest)?;
        self.store.session_end(id_digest).await
    }

    /// Counts a sign-in attempt from `client` (an address; `None` when
    /// unknown, then only the user name is counted) at the user name whose
    /// SHA-256 is `user_digest`, unless `limits` (per address, per user
    /// name; 0 for one that is not counted) attempts were counted in the
    /// `window` already. `Ok(None)`:
    /// go on and check the credentials; `Ok(Some(wait))`: refused, try
    /// again after `wait`.
    pub async fn login_attempt(
        &self,
        client: Option<&str>,
        user_digest: &str,
        limits: (u32, u32),
        window: Duration,
    ) -> Result<Option<Duration>, Error> {
        check_digest(user_digest)?;
        let wait = self
            .store
            .login_attempt(client, user_digest, limits, millis(window))
            .await?;
        Ok(wait.map(Duration::from_millis))
    }

    /// Clears the attempts counted at the user name whose SHA-256 is
    /// `user_digest`, after it signed in.
    pub async fn login_succeeded(&self, user_digest: &str) -> Result<(), Error> {
        check_digest(user_digest)?;
        self.store.login_attempts_clear(user_digest).await
    }
}
