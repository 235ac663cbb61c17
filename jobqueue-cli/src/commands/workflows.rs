//! `jobqueue workflows` (list) and `jobqueue workflow <id> [--retry-from
//! NODE | --cancel]` (show, retry from a failed node, cancel; the actions
//! are written to the audit log).

use clap::Args;
use jobqueue_core::{Client, WorkflowState, WorkflowStatus};

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_USAGE};
use super::output::{json, table};

/// Options of `jobqueue workflows`.
#[derive(Debug, Args)]
pub struct WorkflowsArgs {
    /// Only workflows recorded on this queue (their first node's).
    #[arg(long, short)]
    pub queue: Option<String>,
    /// Only workflows in this state: incomplete, running, succeeded,
    /// failed, cancelled.
    #[arg(long)]
    pub state: Option<String>,
    /// Only workflows whose name contains this.
    #[arg(long)]
    pub name: Option<String>,
    /// At most this many (newest first, up to 500).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Options of `jobqueue workflow`.
#[derive(Debug, Args)]
pub struct WorkflowArgs {
    /// The workflow id.
    pub id: uuid::Uuid,
    /// Re-run this failed (or skipped, or cancelled) node and everything
    /// downstream of it, keeping the results of what succeeded.
    #[arg(long, conflicts_with = "cancel")]
    pub retry_from: Option<String>,
    /// Cancel every node that may still run.
    #[arg(long)]
    pub cancel: bool,
}

/// `jobqueue workflows`.
pub(crate) async fn list(client: &Client, args: &WorkflowsArgs, as_json: bool) -> CliResult {
    let state = match args.state.as_deref() {
        None => None,
        Some(text) => Some(WorkflowState::parse(text).ok_or_else(|| {
            CliError::new(
                EXIT_USAGE,
                format!(
                    "unknown state {text:?}: use incomplete, running, succeeded, failed or cancelled"
                ),
            )
        })?),
    };
    let listed = client
        .admin()
        .list_workflows(
            args.queue.as_deref(),
            state,
            args.name.as_deref(),
            args.limit,
        )
        .await?;
    if as_json {
        return json(&listed);
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|wf| {
            vec![
                wf.id.to_string(),
                wf.name.escape_debug().to_string(),
                wf.state.as_str().to_owned(),
                format!(
                    "{}/{}/{}/{}/{}/{}",
                    wf.counts.pending,
                    wf.counts.running,
                    wf.counts.succeeded,
                    wf.counts.failed,
                    wf.counts.skipped,
                    wf.counts.cancelled
                ),
                wf.created_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "NAME",
            "STATE",
            "PEND/RUN/OK/FAIL/SKIP/CANC",
            "CREATED",
        ],
        &rows,
    );
    Ok(())
}

/// `jobqueue workflow <id> [--retry-from NODE | --cancel]`.
pub(crate) async fn workflow(client: &Client, args: &WorkflowArgs, as_json: bool) -> CliResult {
    let target = jobqueue_dashboard::actions::workflows::workflow_audit_target(args.id);
    if let Some(node) = &args.retry_from {
        let report = client.retry_workflow_from(args.id, node).await?;
        audit(
            client,
            "workflow_retry",
            &target,
            report.enqueued.len() as u64,
        )
        .await;
        if as_json {
            return json(&report);
        }
        for (name, id) in &report.enqueued {
            println!("re-enqueued node {} as job {id}", name.escape_debug());
        }
        return Ok(());
    }
    if args.cancel {
        let cancelled = client.cancel_workflow(args.id).await?;
        audit(client, "workflow_cancel", &target, cancelled as u64).await;
        if as_json {
            return json(&serde_json::json!({
                "action": "cancel", "workflow": args.id, "cancelled": cancelled
            }));
        }
        println!("cancelled workflow {} ({cancelled} node jobs)", args.id);
        return Ok(());
    }
    let status = client.workflow_status(args.id).await?;
    if as_json {
        return json(&status);
    }
    print_status(&status);
    Ok(())
}

fn print_status(status: &WorkflowStatus) {
    let summary = &status.summary;
    println!(
        "workflow {} {:?} on queue {}: {}",
        summary.id,
        summary.name,
        summary.queue,
        summary.state.as_str()
    );
    let rows: Vec<Vec<String>> = status
        .nodes
        .iter()
        .map(|node| {
            vec![
                node.name.escape_debug().to_string(),
                node.state.as_str().to_owned(),
                node.queue.clone(),
                node.job_id.to_string(),
                node.reruns.to_string(),
                node.error
                    .clone()
                    .unwrap_or_default()
                    .escape_debug()
                    .to_string(),
            ]
        })
        .collect();
    table(&["NODE", "STATE", "QUEUE", "JOB", "RERUNS", "ERROR"], &rows);
}
