//! `jobqueue jobs search`: find jobs by tag, job id or id prefix, job type,
//! batch (`--batch <id>`) or payload field (`--field 'args.customer_id = 4711'`), page by page;
//! with `--action retry|delete|cancel`, act on what a page found (every
//! page with `--all`), each page written to the audit log.

use clap::Args;
use jobqueue_core::Client;
use jobqueue_core::admin::{
    DEFAULT_SEARCH_BUDGET, SearchAction, SearchActionReport, SearchPage, SearchQuery,
};
use serde::Serialize;

use jobqueue_dashboard::format::{ago, short};

use super::audit::audit;
use super::exit::{CliError, CliResult, EXIT_USAGE};
use super::output::{count, json, table};

/// What `jobqueue jobs search` looks for (one of --tag, --id, --type,
/// --batch, --field).
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Jobs enqueued with this tag (an index look-up).
    #[arg(long)]
    pub tag: Option<String>,
    /// The job with this id, or the jobs whose id starts with it.
    #[arg(long = "id")]
    pub id_prefix: Option<String>,
    /// The jobs of the batch with this id (a bounded scan).
    #[arg(long)]
    pub batch: Option<String>,
    /// Jobs whose payload has this value: `path = value`, e.g.
    /// 'args.customer_id = 4711' (a bounded scan).
    #[arg(long)]
    pub field: Option<String>,
    /// Stored jobs one page of a scanning search reads at most (1-100000).
    #[arg(long, default_value_t = DEFAULT_SEARCH_BUDGET)]
    pub budget: usize,
    /// Apply this to the jobs found: retry, delete or cancel.
    #[arg(long)]
    pub action: Option<String>,
    /// With --action: go through every page, not only the first.
    #[arg(long, requires = "action")]
    pub all: bool,
}

impl SearchArgs {
    /// Refuses the search options on a listing (`jobqueue jobs ready --tag x`).
    pub(crate) fn refuse_outside_search(&self) -> Result<(), CliError> {
        if self.tag.is_some()
            || self.id_prefix.is_some()
            || self.batch.is_some()
            || self.field.is_some()
            || self.action.is_some()
        {
            return Err(CliError::new(
                EXIT_USAGE,
                "--tag, --id, --batch, --field and --action belong to `jobqueue jobs search`",
            ));
        }
        Ok(())
    }
}

/// Which search the options name (`--type` is the shared filter option).
fn query_of(args: &SearchArgs, job_type: Option<&str>) -> Result<SearchQuery, CliError> {
    let usage = |e: jobqueue_core::Error| CliError::new(EXIT_USAGE, e.to_string());
    let given = [
        args.tag.is_some(),
        args.id_prefix.is_some(),
        args.batch.is_some(),
        args.field.is_some(),
        job_type.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(CliError::new(
            EXIT_USAGE,
            "jobs search takes exactly one of --tag, --id, --type, --batch, --field",
        ));
    }
    if let Some(tag) = &args.tag {
        SearchQuery::tag(tag).map_err(usage)
    } else if let Some(id) = &args.id_prefix {
        SearchQuery::id(id).map_err(usage)
    } else if let Some(batch) = &args.batch {
        SearchQuery::batch(batch).map_err(usage)
    } else if let Some(field) = &args.field {
        SearchQuery::field(field).map_err(usage)
    } else if let Some(name) = job_type {
        SearchQuery::job_type(name).map_err(usage)
    } else {
        Err(CliError::new(EXIT_USAGE, "nothing to search for"))
    }
}

/// `jobqueue jobs search`.
pub(crate) async fn search(
    client: &Client,
    queue: &str,
    args: &SearchArgs,
    job_type: Option<&str>,
    cursor: Option<&str>,
    limit: usize,
    as_json: bool,
) -> CliResult {
    let query = query_of(args, job_type)?;
    if let Some(action) = &args.action {
        let action =
            SearchAction::parse(action).map_err(|e| CliError::new(EXIT_USAGE, e.to_string()))?;
        return act(client, queue, &query, cursor, action, limit, args, as_json).await;
    }
    let page = client
        .admin()
        .search(queue, &query, cursor, limit, args.budget)
        .await?;
    if as_json {
        return json(&page);
    }
    print_page(&page);
    Ok(())
}

fn print_page(page: &SearchPage) {
    let rows: Vec<Vec<String>> = page
        .hits
        .iter()
        .map(|hit| match &hit.job {
            Some(job) => vec![
                hit.id.to_string(),
                job.state.as_str().to_owned(),
                job.job_type
                    .clone()
                    .unwrap_or_else(|| "(undecodable)".to_owned()),
                short(&job.tags.join(" "), 40),
                ago(job.at.or(job.enqueued_at)),
            ],
            None => vec![
                hit.id.to_string(),
                "ready or ended".to_owned(),
                String::new(),
                String::new(),
                String::new(),
            ],
        })
        .collect();
    table(&["ID", "STATE", "TYPE", "TAGS", "WHEN"], &rows);
    eprintln!(
        "{} found; scanned {} of {} {}{}",
        page.hits.len(),
        count(page.scanned),
        count(page.total),
        if page.indexed {
            "index entries"
        } else {
            "jobs"
        },
        page.next_cursor
            .as_ref()
            .map(|c| format!("; next page: --cursor {c}"))
            .unwrap_or_default()
    );
}

/// What `--action` did over the pages it went through.
#[derive(Debug, Default, Serialize)]
struct ActionTotals {
    action: &'static str,
    pages: u64,
    found: u64,
    changed: u64,
    skipped: u64,
    next_cursor: Option<String>,
}

/// Applies `action` page by page (one page, or all with `--all`).
#[allow(clippy::too_many_arguments)]
async fn act(
    client: &Client,
    queue: &str,
    query: &SearchQuery,
    cursor: Option<&str>,
    action: SearchAction,
    limit: usize,
    args: &SearchArgs,
    as_json: bool,
) -> CliResult {
    let admin = client.admin();
    let mut totals = ActionTotals {
        action: action.as_str(),
        ..ActionTotals::default()
    };
    let mut cursor = cursor.map(str::to_owned);
    loop {
        let report: SearchActionReport = admin
            .act_on_search(queue, query, cursor.as_deref(), action, limit, args.budget)
            .await?;
        totals.pages += 1;
        totals.found += report.found;
        totals.changed += report.changed;
        totals.skipped += report.skipped;
        if report.changed > 0 {
            audit(
                client,
                action.as_str(),
                &format!("{queue} search {query:?}"),
                report.changed,
            )
            .await;
        }
        cursor = report.next_cursor;
        if !args.all || cursor.is_none() {
            break;
        }
    }
    totals.next_cursor = cursor;
    if as_json {
        return json(&totals);
    }
    println!(
        "{}: {} of {} job(s) found in {} page(s) of queue {queue} ({} skipped){}",
        totals.action,
        count(totals.changed),
        count(totals.found),
        totals.pages,
        count(totals.skipped),
        totals
            .next_cursor
            .as_ref()
            .map(|c| format!("; next page: --cursor {c}"))
            .unwrap_or_default()
    );
    Ok(())
}
