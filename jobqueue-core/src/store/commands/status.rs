//! A tracked job's status hash (`P:status:<id>`): written by the worker
//! running it, read by producers and the operator; kept a TTL after its
//! last update.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;

impl Store {
    /// Sets `fields` (and `updated_at` = `now_ms`) in job `id`'s status
    /// hash and restarts its TTL (`ttl_ms`), in one round trip.
    pub async fn write_status(
        &self,
        id: &str,
        now_ms: &str,
        fields: &[(&str, &str)],
        ttl_ms: u64,
    ) -> Result<(), Error> {
        let key = self.keys.status(id);
        let mut pipe = redis::pipe();
        pipe.cmd("HSET").arg(&key).arg("updated_at").arg(now_ms);
        for (field, value) in fields {
            pipe.arg(*field).arg(*value);
        }
        pipe.ignore().cmd("PEXPIRE").arg(&key).arg(ttl_ms).ignore();
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))
    }

    /// Every field of job `id`'s status hash (empty when it has none).
    pub async fn status_fields(&self, id: &str) -> Result<HashMap<String, String>, Error> {
        redis::cmd("HGETALL")
            .arg(self.keys.status(id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("job_status"))
    }
}
