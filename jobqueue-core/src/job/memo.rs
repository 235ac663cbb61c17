//! [`Memo`]: one run's view of its durable job's memo (`P:{Q}:steps:<id>`),
//! shared by the clones of its context: read from Redis once, on first
//! use, then looked up in memory; the names the run used (each once); and
//! whether the run used the memo or parked the job (the worker routes its
//! ending on these). `job::steps` builds the public methods on it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use uuid::Uuid;

use crate::error::Error;
use crate::store::Store;
use crate::store::commands::steps::MemoRead;
use crate::store::keys::QueueKeys;

/// One run's view of its memo.
#[derive(Debug, Default)]
pub struct Memo {
    state: tokio::sync::Mutex<MemoState>,
    used: AtomicBool,
    parked: AtomicBool,
}

#[derive(Debug, Default)]
struct MemoState {
    loaded: Option<Loaded>,
    /// Fields used by this run: a repeated name is a bug in the job.
    names: HashSet<String>,
}

#[derive(Debug)]
struct Loaded {
    fields: HashMap<String, String>,
    redis_ms: f64,
    at: Instant,
}

impl Loaded {
    /// The Redis clock now, from the read's clock and the time since.
    fn now_ms(&self) -> f64 {
        self.redis_ms + self.at.elapsed().as_secs_f64() * 1000.0
    }
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The field's stored value.
    Found(String),
    /// Nothing stored under the field.
    Missing,
    /// This run used the field already.
    Repeated,
}

impl Memo {
    /// Claims `field` for this run and returns what the memo holds for it,
    /// reading the memo (job `id` of `queue`) on first use.
    pub(crate) async fn lookup(
        &self,
        field: &str,
        store: &Store,
        queue: &QueueKeys,
        id: Uuid,
    ) -> Result<Lookup, Error> {
        let mut state = self.state.lock().await;
        if !state.names.insert(field.to_owned()) {
            return Ok(Lookup::Repeated);
        }
        if state.loaded.is_none() {
            let MemoRead { fields, now_ms, .. } = store.read_memo(queue, &id.to_string()).await?;
            state.loaded = Some(Loaded {
                fields,
                redis_ms: now_ms,
                at: Instant::now(),
            });
            self.used.store(true, Ordering::Relaxed);
        }
        Ok(state
            .loaded
            .as_ref()
            .and_then(|loaded| loaded.fields.get(field).cloned())
            .map_or(Lookup::Missing, Lookup::Found))
    }

    /// Keeps a value this run stored under `field`.
    pub(crate) async fn remember(&self, field: String, value: String) {
        if let Some(loaded) = self.state.lock().await.loaded.as_mut() {
            loaded.fields.insert(field, value);
        }
    }

    /// The Redis clock now (ms), estimated from the memo read's clock.
    pub(crate) async fn now_ms(&self) -> f64 {
        self.state
            .lock()
            .await
            .loaded
            .as_ref()
            .map_or(0.0, Loaded::now_ms)
    }

    /// True once the run read or wrote its memo.
    pub(crate) fn used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }

    /// `signal_wait.lua` parked the job: it left this worker.
    pub(crate) fn mark_parked(&self) {
        self.parked.store(true, Ordering::Relaxed);
    }

    /// True once `signal_wait.lua` parked the job.
    pub(crate) fn parked(&self) -> bool {
        self.parked.load(Ordering::Relaxed)
    }
}
