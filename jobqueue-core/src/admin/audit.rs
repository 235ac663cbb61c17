//! The audit log: who did what to which jobs, when. A Redis list at
//! `P:audit`, newest first, trimmed to [`MAX_AUDIT_ENTRIES`] on every write
//! (one LPUSH + LTRIM), so it cannot grow without bound.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Admin, MAX_PAGE_SIZE};
use crate::error::Error;

/// Most entries the audit log keeps.
pub const MAX_AUDIT_ENTRIES: usize = 1000;

/// One operator action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (user name, token label, or `cli@host`).
    pub actor: String,
    /// What was done (`retry`, `delete`, `purge`, `pause`, ...).
    pub action: String,
    /// What it was done to (queue, state, filter or job id).
    pub target: String,
    /// How many jobs it touched.
    pub count: u64,
}

impl AuditEntry {
    /// An entry stamped now.
    pub fn now(actor: &str, action: &str, target: &str, count: u64) -> Self {
        Self {
            at: Utc::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            count,
        }
    }
}

impl Admin {
    /// Appends `entry` to the audit log.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), Error> {
        let text = serde_json::to_string(entry).map_err(|source| Error::Encode {
            op: "audit",
            job_type: "audit entry".to_owned(),
            source,
        })?;
        let key = self.store.keys().audit();
        redis::pipe()
            .lpush(&key, text)
            .ignore()
            .ltrim(&key, 0, MAX_AUDIT_ENTRIES as isize - 1)
            .ignore()
            .query_async::<()>(&mut self.store.connection())
            .await
            .map_err(Error::redis("audit"))
    }

    /// Audit entries, newest first, from `offset` (at most 1000 per call).
    pub async fn audit_log(&self, offset: usize, limit: usize) -> Result<Vec<AuditEntry>, Error> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let offset = offset.min(MAX_AUDIT_ENTRIES);
        let texts: Vec<String> = redis::cmd("LRANGE")
            .arg(self.store.keys().audit())
            .arg(offset)
            .arg(offset + limit - 1)
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("audit"))?;
        // An entry that does not parse (written by a newer version) is
        // skipped rather than failing the whole page.
        Ok(texts
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect())
    }
}
