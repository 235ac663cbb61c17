//! A durable job's memo (`P:{Q}:steps:<id>`) and pending signals
//! (`P:{Q}:signals:<id>`), read whole: by a running job the first time it
//! uses a step, sleep or signal, and by the operator's job view. Written
//! only by `step_store.lua`, `signal_wait.lua` and `signal_send.lua`.

use std::collections::HashMap;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;

/// A job's memo as read, with the Redis clock at the read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoRead {
    /// Field → value (see the key table in `store::keys`).
    pub fields: HashMap<String, String>,
    /// Pending signals: name → payload JSON.
    pub signals: HashMap<String, String>,
    /// The Redis clock when read, ms since the epoch.
    pub now_ms: f64,
}

impl Store {
    /// Reads job `id`'s memo and pending signals and the Redis clock, in
    /// one round trip.
    pub async fn read_memo(&self, queue: &QueueKeys, id: &str) -> Result<MemoRead, Error> {
        let (fields, signals, (secs, micros)): (
            HashMap<String, String>,
            HashMap<String, String>,
            (i64, i64),
        ) = redis::pipe()
            .cmd("HGETALL")
            .arg(queue.steps(id))
            .cmd("HGETALL")
            .arg(queue.signals(id))
            .cmd("TIME")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("read_memo"))?;
        #[allow(clippy::cast_precision_loss)]
        let now_ms = secs as f64 * 1000.0 + micros as f64 / 1000.0;
        Ok(MemoRead {
            fields,
            signals,
            now_ms,
        })
    }
}
