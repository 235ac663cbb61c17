//! Schema version of the Redis data layout, and the migrator.
//!
//! `P:schema` holds the version of the layout the data is in. Migrations
//! (`migrations/NNNN_name.lua`, embedded here) move it forward; each runs
//! once per registered queue inside one script call, so it touches one hash
//! slot at a time (Redis Cluster safe), and must be idempotent. The
//! migrator runs under a lock so two processes never migrate at once.

use std::time::Duration;

use redis::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::store::Store;

/// The layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// How long the migration lock lives if its holder dies.
const LOCK_TTL: Duration = Duration::from_secs(300);

/// How long a starting process waits for another one that holds the
/// migration lock (several workers starting at once on a fresh database).
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// One migration.
#[derive(Debug)]
pub struct Migration {
    /// The schema version it migrates to.
    pub version: u32,
    /// Its name (the file name without number and extension).
    pub name: &'static str,
    /// The per-queue Lua script.
    pub source: &'static str,
}

/// Every migration, in order.
pub static MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial_layout",
    source: include_str!("../../migrations/0001_initial_layout.lua"),
}];

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationReport {
    /// Version before the run (0 for a fresh database).
    pub from_version: u32,
    /// Version after the run.
    pub to_version: u32,
    /// Migrations applied, by version.
    pub applied: Vec<u32>,
    /// Queues each migration ran on.
    pub queues: usize,
}

/// Reads the schema version and applies pending migrations.
#[derive(Debug, Clone)]
pub struct Migrator {
    store: Store,
}

impl Migrator {
    /// A migrator for `store`'s prefix.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The version in Redis; `None` for a database jobqueue never wrote to.
    pub async fn current_version(&self) -> Result<Option<u32>, Error> {
        let value: Option<String> = redis::cmd("GET")
            .arg(self.store.keys().schema())
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("schema_version"))?;
        value
            .map(|v| {
                v.parse().map_err(|_| {
                    Error::protocol(
                        "schema_version",
                        format!("schema version {v:?} is not a number"),
                    )
                })
            })
            .transpose()
    }

    /// Migrations newer than the version in Redis.
    pub async fn pending(&self) -> Result<Vec<&'static Migration>, Error> {
        let current = self.current_version().await?.unwrap_or(0);
        Ok(MIGRATIONS.iter().filter(|m| m.version > current).collect())
    }

    /// Checks that this build can work with the data in Redis, as a worker
    /// does at start-up. A fresh database is initialised; an outdated one
    /// is migrated only when `allow_migrate` is set.
    pub async fn ensure_compatible(&self, allow_migrate: bool) -> Result<(), Error> {
        match self.current_version().await? {
            Some(found) if found > SCHEMA_VERSION => Err(Error::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            }),
            Some(found) if found == SCHEMA_VERSION => Ok(()),
            Some(found) if !allow_migrate => Err(Error::SchemaOutdated {
                found,
                required: SCHEMA_VERSION,
            }),
            _ => match self.run().await {
                Err(Error::MigrationLocked { lock_key }) => {
                    self.wait_for_other_migrator(lock_key).await
                }
                other => other.map(|_| ()),
            },
        }
    }

    /// Another process holds the migration lock — typically several
    /// workers starting at once on a fresh database, one of which
    /// initialises it. Waits (up to [`LOCK_WAIT`]) for the layout to reach
    /// this build's version instead of failing the start.
    async fn wait_for_other_migrator(&self, lock_key: String) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + LOCK_WAIT;
        loop {
            match self.current_version().await? {
                Some(found) if found == SCHEMA_VERSION => return Ok(()),
                Some(found) if found > SCHEMA_VERSION => {
                    return Err(Error::SchemaTooNew {
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::MigrationLocked { lock_key });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Applies every pending migration under the migration lock.
    /// Running it again when nothing is pending does nothing.
    pub async fn run(&self) -> Result<MigrationReport, Error> {
        let keys = self.store.keys();
        let lock_key = keys.migrate_lock();
        let token = Uuid::new_v4().to_string();
        let mut conn = self.store.connection();
        let acquired: Option<String> = redis::cmd("SET")
            .arg(&lock_key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_TTL.as_millis() as u64)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis("migrate"))?;
        if acquired.is_none() {
            return Err(Error::MigrationLocked { lock_key });
        }
        let result = self.run_locked().await;
        if let Err(err) = self.store.unlock(&lock_key, &token).await {
            tracing::warn!(error = %err, "could not release the migration lock; it expires on its own");
        }
        result
    }

    async fn run_locked(&self) -> Result<MigrationReport, Error> {
        let from_version = self.current_version().await?.unwrap_or(0);
        if from_version > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found: from_version,
                supported: SCHEMA_VERSION,
            });
        }
        let queues = self.store.queue_names().await?;
        let mut report = MigrationReport {
            from_version,
            to_version: from_version,
            applied: Vec::new(),
            queues: queues.len(),
        };
        let mut conn = self.store.connection();
        for migration in MIGRATIONS.iter().filter(|m| m.version > from_version) {
            let script = redis::Script::new(migration.source);
            for queue in &queues {
                let q = self.store.queue_keys(queue)?;
                script
                    .key(q.ready())
                    .key(q.priority())
                    .key(q.scheduled())
                    .key(q.retry())
                    .key(q.dead())
                    .key(q.jobs())
                    .key(q.leases())
                    .key(q.stats())
                    .key(q.paused())
                    .arg(queue)
                    .invoke_async::<Value>(&mut conn)
                    .await
                    .map_err(Error::redis("migrate"))?;
            }
            redis::cmd("SET")
                .arg(self.store.keys().schema())
                .arg(migration.version)
                .query_async::<()>(&mut conn)
                .await
                .map_err(Error::redis("migrate"))?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                queues = queues.len(),
                "applied migration"
            );
            report.applied.push(migration.version);
            report.to_version = migration.version;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_schema_version() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
