//! `jobqueue cron list|pause|resume|run|remove`: the cron entries, as on
//! the dashboard's Cron page. Actions are written to the audit log.

use clap::{Args, Subcommand};
use jobqueue_core::Client;
use jobqueue_core::admin::cron::CronEntryInfo;

use jobqueue_dashboard::actions::cron::{
    CronAction, CronActionOutcome, apply_cron_action, cron_audit_target,
};
use jobqueue_dashboard::format::{ago, count, short, variant_name};

use super::audit::audit;
use super::exit::CliResult;
use super::output::{json, table};

/// `jobqueue cron ...`.
#[derive(Debug, Args)]
pub struct CronArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CronCommand,
}

/// The cron subcommands.
#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Every entry: schedule, next run, last run and its result.
    List,
    /// Stop enqueueing an entry's ticks (in every process, at once).
    Pause(EntryArgs),
    /// Enqueue an entry's ticks again (ticks missed while paused are not run).
    Resume(EntryArgs),
    /// Enqueue an extra run of an entry now (also when paused).
    Run(EntryArgs),
    /// Forget an entry no longer in the code (a running process that still
    /// registers it adds it back).
    Remove(EntryArgs),
}

/// Which entry.
#[derive(Debug, Args)]
pub struct EntryArgs {
    /// The entry's name.
    pub name: String,
    /// The entry's queue.
    #[arg(long, short, default_value = "default")]
    pub queue: String,
}

/// `jobqueue cron`.
pub(crate) async fn cron(client: &Client, args: &CronArgs, as_json: bool) -> CliResult {
    let admin = client.admin();
    let (entry, action) = match &args.command {
        CronCommand::List => return list(&admin.cron_entries().await?, as_json),
        CronCommand::Pause(entry) => (entry, CronAction::Pause),
        CronCommand::Resume(entry) => (entry, CronAction::Resume),
        CronCommand::Run(entry) => (entry, CronAction::Run),
        CronCommand::Remove(entry) => (entry, CronAction::Remove),
    };
    let (queue, name) = (entry.queue.as_str(), entry.name.as_str());
    let job_id = apply_cron_action(&admin, queue, name, action).await?;
    let target = cron_audit_target(queue, name, job_id);
    audit(
        client,
        action.audit_name(),
        &target,
        u64::from(job_id.is_some()),
    )
    .await;
    if as_json {
        return json(&CronActionOutcome {
            action: action.audit_name().to_owned(),
            queue: queue.to_owned(),
            name: name.to_owned(),
            job_id,
        });
    }
    println!("{}: {target}", action.audit_name());
    Ok(())
}

fn list(entries: &[CronEntryInfo], as_json: bool) -> CliResult {
    if as_json {
        return json(&entries);
    }
    if entries.is_empty() {
        println!(
            "no cron entries (they appear when a worker or scheduler with cron entries starts)"
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let result = e.last_result.as_ref().map_or(String::new(), |r| {
                let outcome = variant_name(&r.outcome);
                match &r.error {
                    Some(error) => format!("{outcome}: {}", short(error, 40)),
                    None => outcome,
                }
            });
            vec![
                e.queue.clone(),
                e.name.clone(),
                e.schedule.clone(),
                e.time_zone.clone(),
                e.job_type.clone(),
                if e.paused_at.is_some() {
                    "paused".to_owned()
                } else {
                    ago(e.next_run)
                },
                ago(e.last_enqueued_tick),
                result,
                count(e.skipped),
            ]
        })
        .collect();
    table(
        &[
            "QUEUE", "NAME", "SCHEDULE", "TZ", "TYPE", "NEXT", "LAST", "RESULT", "SKIPPED",
        ],
        &rows,
    );
    Ok(())
}
