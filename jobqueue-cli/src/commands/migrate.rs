//! `jobqueue migrate`: apply pending schema migrations.

use clap::Args;
use jobqueue_core::store::schema::{MIGRATIONS, Migrator, SCHEMA_VERSION};
use jobqueue_core::{Client, ClientConfig};

/// Options of `jobqueue migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only show the current version and what would be applied.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs the command.
pub(crate) async fn run(
    config: ClientConfig,
    args: &MigrateArgs,
) -> Result<(), jobqueue_core::Error> {
    let client = Client::with_config(config).await?;
    let migrator = Migrator::new(client.store().clone());
    let current = migrator.current_version().await?;
    let pending = migrator.pending().await?;
    println!(
        "schema version in Redis: {}; this build: {SCHEMA_VERSION}",
        current.map_or_else(|| "none (fresh)".to_owned(), |v| v.to_string())
    );
    if pending.is_empty() {
        println!("nothing to migrate");
        return Ok(());
    }
    for migration in &pending {
        println!("pending: {:04}_{}", migration.version, migration.name);
    }
    if args.dry_run {
        return Ok(());
    }
    let report = migrator.run().await?;
    println!(
        "migrated {} queue(s) from version {} to {} (applied {} of {} migrations)",
        report.queues,
        report.from_version,
        report.to_version,
        report.applied.len(),
        MIGRATIONS.len()
    );
    Ok(())
}
