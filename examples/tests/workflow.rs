//! The workflow example, end to end against the test Redis with a real
//! worker: both counts fan in to the sum, whose result reaches the report.

#[path = "../workflow.rs"]
#[allow(dead_code)]
mod workflow;

use jobqueue::testing::TestRedis;
use jobqueue::{NodeState, WorkflowState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_reads_the_sum_of_both_counts() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("example-workflow").await?;
    let client = t.client();
    let id = workflow::enqueue(&client, ["one two three", "four five"]).await?;
    let running = workflow::worker(client.clone()).start().await?;
    let summary = workflow::report(&client, id).await?;
    assert_eq!(
        summary,
        workflow::Summary {
            words: 5,
            line: "5 words in all".to_owned()
        }
    );
    let status = client.workflow_status(id).await?;
    assert_eq!(status.summary.state, WorkflowState::Succeeded);
    assert!(status.nodes.iter().all(|n| n.state == NodeState::Succeeded));
    running.shutdown().await;
    Ok(())
}
