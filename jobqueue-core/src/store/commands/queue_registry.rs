//! The queue registry (`P:queues`): registering names, and reading them.
//! Producers in any
//! language write: a name jobqueue would refuse (not UTF-8, a space,
//! too long) is skipped and logged rather than failing every listing —
//! one bad name must not take the dashboard and `/metrics` offline.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::validate_queue_name;

/// Most distinct invalid names logged per process (the registry is
/// writable by anyone with Redis access; the log must stay bounded).
const MAX_LOGGED_INVALID_NAMES: usize = 1000;

/// The registry's names, split into those jobqueue can use and those it
/// skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueRegistry {
    /// Valid queue names, sorted.
    pub names: Vec<String>,
    /// Stored names that are not valid queue names, sorted, as text (bytes
    /// that are not UTF-8 are written as `\xNN`).
    pub invalid: Vec<String>,
}

impl QueueRegistry {
    /// Splits the registry's raw members.
    fn from_members(members: Vec<Vec<u8>>) -> Self {
        let mut registry = Self::default();
        for member in members {
            match String::from_utf8(member) {
                Ok(name) if validate_queue_name(&name).is_ok() => registry.names.push(name),
                Ok(name) => registry.invalid.push(name),
                Err(err) => registry
                    .invalid
                    .push(err.as_bytes().escape_ascii().to_string()),
            }
        }
        registry.names.sort();
        registry.invalid.sort();
        for name in &registry.invalid {
            log_invalid_once(name);
        }
        registry
    }
}

/// Warns about `name` the first time this process meets it.
fn log_invalid_once(name: &str) {
    static LOGGED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let logged = LOGGED.get_or_init(|| Mutex::new(HashSet::new()));
    let Ok(mut logged) = logged.lock() else {
        return;
    };
    if logged.len() < MAX_LOGGED_INVALID_NAMES && logged.insert(name.to_owned()) {
        tracing::warn!(
            queue = name,
            "skipping an invalid queue name in the queue registry (written by another producer?)"
        );
    }
}

impl Store {
    /// Adds queue names to the registry the dashboard and CLI list.
    pub async fn register_queues<I, S>(&self, queues: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<String> = queues.into_iter().map(|q| q.as_ref().to_owned()).collect();
        if names.is_empty() {
            return Ok(());
        }
        redis::cmd("SADD")
            .arg(self.keys.queues())
            .arg(&names)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map(|_| ())
            .map_err(Error::redis("register_queues"))
    }

    /// The queue registry: valid names, and the invalid ones skipped.
    pub async fn queue_registry(&self) -> Result<QueueRegistry, Error> {
        let members: Vec<Vec<u8>> = redis::cmd("SMEMBERS")
            .arg(self.keys().queues())
            .query_async(&mut self.connection())
            .await
            .map_err(Error::redis("queue_names"))?;
        Ok(QueueRegistry::from_members(members))
    }

    /// Names of all registered queues that are valid queue names, sorted
    /// (invalid ones are skipped and logged, see [`Store::queue_registry`]).
    pub async fn queue_names(&self) -> Result<Vec<String>, Error> {
        Ok(self.queue_registry().await?.names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_are_set_apart() {
        let registry = QueueRegistry::from_members(vec![
            b"mail".to_vec(),
            b"bad name".to_vec(),
            b"\xff".to_vec(),
            b"default".to_vec(),
            Vec::new(),
        ]);
        assert_eq!(registry.names, ["default", "mail"]);
        assert_eq!(registry.invalid, ["", "\\xff", "bad name"]);
    }
}
