//! The audit log: who did what to which jobs, when, and which requests
//! were refused. A Redis stream at `P:audit:log`, capped at
//! [`AUDIT_LOG_CAPACITY`](crate::admin::AUDIT_LOG_CAPACITY) entries (`XADD … MAXLEN ~`, so Redis trims whole
//! blocks and keeps a little more), so it cannot grow without bound.
//!
//! What keeps it useful under attack:
//!
//! - Actions that changed nothing (a delete of zero jobs, pausing a paused
//!   queue) are not logged: callers skip them, so a flood of no-ops cannot
//!   push a real purge out.
//! - Refused requests (401, 403, CSRF, foreign Host) are logged at most
//!   [`REFUSALS_PER_MINUTE`] per minute per [`RefusalReason`], counted in
//!   Redis (`audit_refusal.lua`) so the bound holds across replicas; the
//!   number dropped in a minute is written as one `suppressed_refusals`
//!   entry by the first refusal of that kind after it.
//! - Free text (actor, target, client) is stored with control and
//!   invisible format characters escaped (`\u{000A}`, `\u{202E}`), and
//!   bounded in length: a filter text cannot forge a second entry.
//!
//! Shippers read the stream with `XREAD` (or `XRANGE`) from the last id
//! they saw: each entry's fields are `actor`, `role`, `action`, `target`,
//! `count`, `outcome` and `client`; its id's first part is the time
//! (ms, Redis clock). See `docs/operations.md`.

use chrono::{DateTime, Utc};
use redis::Value;
use serde::{Deserialize, Serialize};

use crate::admin::handle::{Admin, MAX_PAGE_SIZE};
use crate::admin::jobs::millis_to_datetime;
use crate::admin::visible_text::escape_hidden;
use crate::error::Error;

/// Most refused requests of one [`RefusalReason`] logged per minute, over
/// all dashboard processes.
pub const REFUSALS_PER_MINUTE: u32 = 60;

/// The window of [`REFUSALS_PER_MINUTE`].
const REFUSAL_WINDOW_MS: u64 = 60_000;

/// How long the count of suppressed refusals waits for a later refusal of
/// its kind to write it.
const REFUSAL_STATE_TTL_MS: u64 = 7 * 24 * 3600 * 1000;

/// Longest stored actor and client text, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Longest stored target text, in characters.
const MAX_TARGET_CHARS: usize = 500;

/// [`AuditEntry::outcome`] of an action that was carried out.
pub const OUTCOME_DONE: &str = "done";

/// Why a request was refused, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// 401: no valid credentials (wrong ones, or none for a state change).
    Unauthenticated,
    /// 403: the caller's role may not do this (a read-only user's action).
    Forbidden,
    /// 403: a state change without the caller's CSRF token, or flagged by
    /// the browser as coming from another site or origin.
    Csrf,
    /// 403: a `Host` the dashboard does not serve (DNS rebinding guard).
    Host,
    /// 401: a dashboard sign-in form with a wrong user name or password.
    SignIn,
    /// 429: a dashboard sign-in refused because too many were tried from
    /// the client's address or at the user name this minute.
    Throttled,
}

impl RefusalReason {
    /// The [`AuditEntry::outcome`] of such a refusal: `refused_401`,
    /// `refused_403`, `refused_csrf`, `refused_host`, `refused_sign_in` or
    /// `refused_throttled`.
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Unauthenticated => "refused_401",
            Self::Forbidden => "refused_403",
            Self::Csrf => "refused_csrf",
            Self::Host => "refused_host",
            Self::SignIn => "refused_sign_in",
            Self::Throttled => "refused_throttled",
        }
    }

    /// The name in the rate-limit key.
    fn key_name(self) -> &'static str {
        match self {
            Self::Unauthenticated => "401",
            Self::Forbidden => "403",
            Self::Csrf => "csrf",
            Self::Host => "host",
            Self::SignIn => "sign_in",
            Self::Throttled => "throttled",
        }
    }
}

/// One entry: an operator action, or a refused request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The stream entry id (`<ms>-<n>`), when read from the log; pass the
    /// last one as the cursor of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it happened (read back: when Redis stored it).
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub at: DateTime<Utc>,
    /// Who: the credential's label or user name, a host application's
    /// user, `cli:<user>@<host>`, or `unauthenticated`.
    pub actor: String,
    /// The role they acted with (`operator`, `read_only`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// What was done (`retry`, `delete`, `purge`, `pause`, ...), or the
    /// HTTP method of a refused request.
    pub action: String,
    /// What it was done to (queue, state, filter or job id), or the path
    /// of a refused request.
    pub target: String,
    /// How many jobs it touched (refusals: 0; a `suppressed_refusals`
    /// entry: how many refusals were not logged).
    pub count: u64,
    /// [`OUTCOME_DONE`], or a refusal's [`RefusalReason::outcome`].
    #[serde(default = "outcome_done")]
    pub outcome: String,
    /// The client's address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

fn outcome_done() -> String {
    OUTCOME_DONE.to_owned()
}

impl AuditEntry {
    /// An action that was carried out, stamped now.
    pub fn now(actor: &str, action: &str, target: &str, count: u64) -> Self {
        Self {
            id: None,
            at: Utc::now(),
            actor: actor.to_owned(),
            role: None,
            action: action.to_owned(),
            target: target.to_owned(),
            count,
            outcome: outcome_done(),
            client: None,
        }
    }

    /// With the role the actor acted with.
    #[must_use]
    pub fn role(mut self, role: &str) -> Self {
        self.role = Some(role.to_owned());
        self
    }

    /// With the client's address.
    #[must_use]
    pub fn client(mut self, client: Option<String>) -> Self {
        self.client = client;
        self
    }

    /// The stream fields of this entry, with hidden characters escaped
    /// and long texts cut.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("actor", stored_text(&self.actor, MAX_NAME_CHARS)),
            ("action", stored_text(&self.action, MAX_NAME_CHARS)),
            ("target", stored_text(&self.target, MAX_TARGET_CHARS)),
            ("count", self.count.to_string()),
            ("outcome", stored_text(&self.outcome, MAX_NAME_CHARS)),
        ];
        if let Some(role) = &self.role {
            fields.push(("role", stored_text(role, MAX_NAME_CHARS)));
        }
        if let Some(client) = &self.client {
            fields.push(("client", stored_text(client, MAX_NAME_CHARS)));
        }
        fields
    }

    /// An entry read back from the stream; `None` when malformed.
    fn from_stream(id: String, fields: &[Value]) -> Option<Self> {
        let millis: i64 = id.split('-').next()?.parse().ok()?;
        let mut entry = Self {
            at: millis_to_datetime(millis)?,
            id: Some(id),
            ..Self::now("", "", "", 0)
        };
        for pair in fields.chunks(2) {
            let [Value::BulkString(name), Value::BulkString(value)] = pair else {
                return None;
            };
            let value = String::from_utf8_lossy(value).into_owned();
            match name.as_slice() {
                b"actor" => entry.actor = value,
                b"role" => entry.role = Some(value),
                b"action" => entry.action = value,
                b"target" => entry.target = value,
                b"count" => entry.count = value.parse().ok()?,
                b"outcome" => entry.outcome = value,
                b"client" => entry.client = Some(value),
                _ => {}
            }
        }
        Some(entry)
    }
}

/// `text` as stored: hidden characters escaped, at most `max_chars`
/// characters (an ellipsis marks a cut).
fn stored_text(text: &str, max_chars: usize) -> String {
    let escaped = escape_hidden(text, false);
    match escaped.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped.into_owned(),
    }
}

/// Reads a page cursor: a stream id (`<ms>` or `<ms>-<n>`, each a u64).
/// `Ok(false)` for `0-0`, before which nothing can be (Redis refuses it as
/// an exclusive end).
fn check_cursor(cursor: &str) -> Result<bool, Error> {
    let (ms, seq) = match cursor.split_once('-') {
        Some((ms, seq)) => (ms, Some(seq)),
        None => (cursor, None),
    };
    let number = |part: &str| {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u64>().ok())
            .flatten()
    };
    match (number(ms), seq.map(number)) {
        (Some(0), Some(Some(0))) => Ok(false),
        (Some(_), None | Some(Some(_))) => Ok(true),
        _ => Err(Error::invalid(
            "audit_log",
            format!("cursor {cursor:?} is not an audit entry id (like 1767225600000-0)"),
        )),
    }
}

impl Admin {
    /// Appends `entry` to the audit log (text fields escaped and cut, see
    /// the module docs), trimming the log to about its capacity. Callers
    /// skip actions that changed nothing.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), Error> {
        self.xadd_audit(&[entry.fields()]).await
    }

    /// Appends a refused request to the audit log, unless
    /// [`REFUSALS_PER_MINUTE`] of its `reason` were logged this minute
    /// already (by any process). Returns whether it was written.
    pub async fn record_refusal(
        &self,
        reason: RefusalReason,
        entry: &AuditEntry,
    ) -> Result<bool, Error> {
        let (log, suppressed, window_ms) = self
            .store
            .audit_refusal(
                reason.key_name(),
                REFUSALS_PER_MINUTE,
                REFUSAL_WINDOW_MS,
                REFUSAL_STATE_TTL_MS,
            )
            .await?;
        let mut entries = Vec::new();
        if suppressed > 0 {
            let from = millis_to_datetime(window_ms).map_or_else(String::new, |t| t.to_rfc3339());
            let summary = AuditEntry {
                role: None,
                client: None,
                outcome: reason.outcome().to_owned(),
                ..AuditEntry::now(
                    "-",
                    "suppressed_refusals",
                    &format!(
                        "refusals over {REFUSALS_PER_MINUTE} in the minute from {from}, not logged one by one"
                    ),
                    suppressed,
                )
            };
            entries.push(summary.fields());
        }
        if log {
            let mut refused = entry.clone();
            refused.outcome = reason.outcome().to_owned();
            entries.push(refused.fields());
        }
        self.xadd_audit(&entries).await?;
        Ok(log)
    }

    async fn xadd_audit(&self, entries: &[Vec<(&'static str, String)>]) -> Result<(), Error> {
        self.store.audit_append(entries, self.audit_capacity).await
    }

    /// Audit entries, newest first: `limit` (at most 1000) entries older
    /// than the entry `before` (an [`AuditEntry::id`]), or the newest ones.
    pub async fn audit_log(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, Error> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let end = match before {
            Some(cursor) if check_cursor(cursor)? => format!("({cursor}"),
            Some(_) => return Ok(Vec::new()),
            None => "+".to_owned(),
        };
        let reply = self.store.audit_page(&end, limit).await?;
        let Value::Array(items) = reply else {
            return Ok(Vec::new());
        };
        // An entry that does not parse (written by something else) is
        // skipped rather than failing the whole page.
        Ok(items
            .into_iter()
            .filter_map(|item| match item {
                Value::Array(mut parts) if parts.len() == 2 => {
                    let fields = match parts.pop() {
                        Some(Value::Array(fields)) => fields,
                        _ => return None,
                    };
                    let id = match parts.pop() {
                        Some(Value::BulkString(id)) => String::from_utf8(id).ok()?,
                        _ => return None,
                    };
                    AuditEntry::from_stream(id, &fields)
                }
                _ => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_is_escaped_and_bounded() {
        assert_eq!(
            stored_text("a\n2026-01-01 admin purge", 100),
            "a\\u{000A}2026-01-01 admin purge"
        );
        assert_eq!(stored_text("abcdef", 3), "abc…");
        assert_eq!(stored_text("ab\u{202E}c", 3), "ab\\…");
    }

    #[test]
    fn cursors_are_stream_ids() {
        assert!(check_cursor("1767225600000-0").unwrap());
        assert!(check_cursor("18446744073709551615-18446744073709551615").unwrap());
        assert!(!check_cursor("0-0").unwrap(), "nothing is older than 0-0");
        for bad in [
            "",
            "-",
            "1-",
            "-1",
            "x",
            "1-2-3",
            "1 2",
            "(1",
            "+1",
            "18446744073709551616",
            "1-18446744073709551616",
        ] {
            assert!(check_cursor(bad).is_err(), "{bad}");
        }
    }
}
