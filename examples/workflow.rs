//! A three-step workflow with a fan-in passing results along: two word
//! counts (on two queues) fan in to a sum, which feeds a report. Each step
//! leaves its result with `ctx.set_result`; the next reads its parents'
//! with `ctx.parent_results`. See docs/batches-and-workflows.md.
//!
//! Run with a Redis at hand:
//! `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example workflow`

use std::time::Duration;

use jobqueue::{Client, ClientConfig, Job, JobContext, JobError, Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Key prefix of the example, so it never touches other data in your Redis.
const PREFIX: &str = "jqworkflow";

/// Step 1 (twice, in parallel): counts the words of a text.
#[derive(Serialize, Deserialize)]
pub struct CountWords {
    /// The text.
    pub text: String,
}

impl Job for CountWords {
    const NAME: &'static str = "count_words";
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let words = self.text.split_whitespace().count() as u64;
        ctx.set_result(&words)?;
        Ok(())
    }
}

/// Step 2 (the fan-in): adds up its parents' counts.
#[derive(Serialize, Deserialize)]
pub struct SumCounts;

impl Job for SumCounts {
    const NAME: &'static str = "sum_counts";
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let counts = ctx.parent_results::<u64>().await?;
        let total: u64 = counts.iter().filter_map(|parent| parent.result).sum();
        ctx.set_result(&total)?;
        Ok(())
    }
}

/// What the report leaves as its result.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    /// Words in all texts.
    pub words: u64,
    /// The report's line.
    pub line: String,
}

/// Step 3: writes the report from the sum.
#[derive(Serialize, Deserialize)]
pub struct Report;

impl Job for Report {
    const NAME: &'static str = "report";
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let sum = ctx.parents().first().map(|parent| parent.id);
        let words = match sum {
            Some(id) => ctx.parent_result::<u64>(id).await?.unwrap_or(0),
            None => 0,
        };
        let line = format!("{words} words in all");
        tracing::info!(%line, "report written");
        ctx.set_result(&Summary { words, line })?;
        Ok(())
    }
}

/// Enqueues the workflow: two counts (one on the `slow` queue) → sum → report.
pub async fn enqueue(client: &Client, texts: [&str; 2]) -> Result<Uuid, jobqueue::Error> {
    client
        .workflow("word count")
        .node(
            "count a",
            client.job(CountWords {
                text: texts[0].to_owned(),
            }),
        )
        .node(
            "count b",
            client
                .job(CountWords {
                    text: texts[1].to_owned(),
                })
                .queue("slow"),
        )
        .node("sum", client.job(SumCounts))
        .node("report", client.job(Report))
        .edge("count a", "sum")
        .edge("count b", "sum")
        .edge("sum", "report")
        .enqueue()
        .await
}

/// A worker for the three steps, on both queues.
pub fn worker(client: Client) -> WorkerBuilder {
    Worker::builder(client)
        .register::<CountWords>()
        .register::<SumCounts>()
        .register::<Report>()
        .queues(["default", "slow"])
}

/// Waits for the report node's result.
pub async fn report(
    client: &Client,
    workflow: Uuid,
) -> Result<Summary, Box<dyn std::error::Error>> {
    let status = client.workflow_status(workflow).await?;
    let node = status.node("report").ok_or("no report node")?;
    let summary = client
        .wait_result::<Summary>(node.job_id, Duration::from_secs(20))
        .await?
        .ok_or("the report left no result")?;
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let url =
        std::env::var("JOBQUEUE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = Client::with_config(ClientConfig::new(url).prefix(PREFIX)).await?;
    let id = enqueue(&client, ["the quick brown fox", "jumps over the lazy dog"]).await?;
    println!("enqueued workflow {id}");
    let running = worker(client.clone()).start().await?;
    let summary = report(&client, id).await?;
    println!("{}", summary.line);
    let status = client.workflow_status(id).await?;
    for node in &status.nodes {
        println!("{:>8}  {}", node.state.as_str(), node.name);
    }
    running.shutdown().await;
    Ok(())
}
