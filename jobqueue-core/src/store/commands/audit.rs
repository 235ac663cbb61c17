//! The audit log's stream (`P:audit:log`): appending entries, capped, and
//! reading pages of it newest first.

use redis::Value;

use crate::error::Error;
use crate::store::handle::Store;

impl Store {
    /// Appends `entries` (field, value pairs each) to the audit log in one
    /// round trip, trimming it to about `capacity` entries (`MAXLEN ~`).
    pub async fn audit_append(
        &self,
        entries: &[Vec<(&'static str, String)>],
        capacity: usize,
    ) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let key = self.keys.audit_log();
        let mut pipe = redis::pipe();
        for fields in entries {
            let cmd = pipe
                .cmd("XADD")
                .arg(&key)
                .arg("MAXLEN")
                .arg("~")
                .arg(capacity)
                .arg("*");
            for (name, value) in fields {
                cmd.arg(*name).arg(value);
            }
            cmd.ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("audit"))
    }

    /// Up to `limit` audit entries, newest first, from stream id `end`
    /// (`+` for the newest, `(<id>` for those before an entry): the raw
    /// `XREVRANGE` reply.
    pub async fn audit_page(&self, end: &str, limit: usize) -> Result<Value, Error> {
        redis::cmd("XREVRANGE")
            .arg(self.keys.audit_log())
            .arg(end)
            .arg("-")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("audit"))
    }
}
