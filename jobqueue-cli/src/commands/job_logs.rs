//! `jobqueue job <id> --logs`: a job's logs per attempt (per-job logs,
//! `docs/search-logs-events.md`, "Logs"), control and hidden characters
//! escaped so a log line cannot drive the terminal.

use jobqueue_core::admin::escape_hidden;
use jobqueue_core::{AttemptLog, Client};
use serde::Serialize;
use uuid::Uuid;

use super::exit::{CliError, CliResult, EXIT_NOT_FOUND};
use super::output::json;

/// What `--json` prints.
#[derive(Serialize)]
struct JobLogs<'a> {
    queue: &'a str,
    id: Uuid,
    attempts: &'a [AttemptLog],
}

/// Prints job `id`'s logs. Without `queue` the job is looked up where jobs
/// are filed by id; a ready job is not, so it needs `--queue`.
pub(crate) async fn print_job_logs(
    client: &Client,
    id: Uuid,
    queue: Option<&str>,
    as_json: bool,
) -> CliResult {
    let admin = client.admin();
    let queue = match queue {
        Some(queue) => queue.to_owned(),
        None => match admin.find_job(id).await? {
            Some(job) => job.queue,
            None => {
                return Err(CliError::new(
                    EXIT_NOT_FOUND,
                    format!(
                        "no scheduled, retrying, dead, waiting, cancelled or expired job {id}; \
                         for a ready job give its --queue"
                    ),
                ));
            }
        },
    };
    let attempts = admin.job_logs(&queue, id).await?;
    if as_json {
        return json(&JobLogs {
            queue: &queue,
            id,
            attempts: &attempts,
        });
    }
    if attempts.is_empty() {
        println!("no logs kept for job {id} in queue {queue}");
        return Ok(());
    }
    for log in &attempts {
        println!("attempt {} ({} lines)", log.attempt, log.lines.len());
        for line in &log.lines {
            println!("  {}", escape_hidden(line, false));
        }
    }
    Ok(())
}
