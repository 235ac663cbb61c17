//! Job chains and fan-in: two downloads (in two queues) fan in to a merge,
//! which is followed by a publish; a third dependent runs even though its
//! parent dies. See docs/flow-control.md.
//!
//! Run with a Redis at hand:
//! `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example chains`

use std::time::Duration;

use jobqueue::Worker;
use jobqueue::{Client, ClientConfig, Job, JobContext, JobError, OnParentFailure};
use serde::{Deserialize, Serialize};

/// Key prefix of the example, so it never touches other data in your Redis.
const PREFIX: &str = "jqchains";

/// Downloads one region's data (slowly in "slow").
#[derive(Serialize, Deserialize)]
struct Download {
    region: String,
    fail: bool,
}

impl Job for Download {
    const NAME: &'static str = "download";
    const MAX_ATTEMPTS: u32 = 1;
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if self.fail {
            return Err(JobError::permanent("the mirror is gone"));
        }
        tracing::info!(job = %ctx.id(), region = %self.region, "downloaded");
        Ok(())
    }
}

/// Runs after its parents (the merge, the publish, the cleanup).
#[derive(Serialize, Deserialize)]
struct Step {
    name: String,
}

impl Job for Step {
    const NAME: &'static str = "step";
    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(job = %ctx.id(), step = %self.name, "step ran after its parents");
        Ok(())
    }
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
    let download = |region: &str, fail| Download {
        region: region.to_owned(),
        fail,
    };
    let step = |name: &str| Step {
        name: name.to_owned(),
    };

    // Parents are marked so they record their end for their dependents.
    let eu = client
        .job(download("eu", false))
        .with_dependents()
        .enqueue()
        .await?;
    let us = client
        .job(download("us", false))
        .queue("slow")
        .with_dependents()
        .enqueue()
        .await?;
    let broken = client
        .job(download("ap", true))
        .with_dependents()
        .enqueue()
        .await?;

    // Fan-in, then a chain: merge after both downloads, publish after merge.
    let merge = client
        .job(step("merge"))
        .after_all([eu, us])
        .with_dependents()
        .enqueue()
        .await?;
    let publish = client
        .job(step("publish"))
        .after(merge)
        .track()
        .enqueue()
        .await?;
    // Runs whatever happens to its parent; the default would dead-letter it.
    let cleanup = client
        .job(step("cleanup"))
        .after(broken)
        .on_parent_failure(OnParentFailure::Run)
        .track()
        .enqueue()
        .await?;

    let admin = client.admin();
    let waiting = admin
        .job("default", merge)
        .await?
        .ok_or("the merge job should be waiting for its parents")?;
    let deps = admin.dependencies(&waiting).await?;
    println!(
        "merge is {:?}: {} of {} parents succeeded, children {:?}",
        waiting.state,
        deps.parents_succeeded,
        deps.parents.len(),
        deps.children.iter().map(|c| c.id).collect::<Vec<_>>()
    );

    let worker = Worker::builder(client.clone())
        .register::<Download>()
        .register::<Step>()
        .queues(["default", "slow"])
        .start()
        .await?;
    client
        .wait_result::<()>(publish, Duration::from_secs(20))
        .await?;
    client
        .wait_result::<()>(cleanup, Duration::from_secs(20))
        .await?;
    println!("publish and cleanup ran after their parents");
    worker.shutdown().await;
    Ok(())
}
