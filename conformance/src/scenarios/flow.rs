//! Flow control: keyed jobs (`flow_key`) run one at a time per key while
//! keys run side by side, and a queue's running limit holds across the
//! worker's slots (`fetch_limited.lua`).

use std::collections::HashMap;
use std::time::Duration;

use jobqueue::QueueLimits;
use serde_json::json;

use crate::failure::{Outcome, ensure};
use crate::probe::RunEntry;
use crate::process::WorkerSpec;
use crate::protocol::{JobSpec, Options, Request};
use crate::scenario::{Ctx, QUEUE};

const RUN_MS: i64 = 400;
/// Slack for the gap between two starts that must not overlap (clock
/// reads in two processes, the recording's own round trip).
const SLACK_MS: i64 = 60;

/// Jobs of one flow key never overlap; two keys run at the same time.
pub(crate) async fn one_job_per_key(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let jobs: Vec<JobSpec> = (0..6)
        .map(|n| {
            let flow = if n % 2 == 0 { "account:1" } else { "account:2" };
            JobSpec::new("conformance.sleep", json!({"key": key, "ms": RUN_MS})).with(Options {
                flow_key: Some(flow.into()),
                ..Options::default()
            })
        })
        .collect();
    let mut producer = ctx.producer().await?;
    let ids = producer
        .ok(&Request::EnqueueMany {
            queue: QUEUE.into(),
            jobs,
        })
        .await?
        .ids();
    producer.finish().await?;
    let flow_of: HashMap<String, &str> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            (
                id.clone(),
                if n % 2 == 0 { "account:1" } else { "account:2" },
            )
        })
        .collect();
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 6)).await?;
    let runs = ctx.runs(&key, 6, Duration::from_secs(15)).await?;
    let mut by_flow: HashMap<&str, Vec<&RunEntry>> = HashMap::new();
    for run in &runs {
        let flow = flow_of.get(&run.id).copied().unwrap_or("unknown");
        by_flow.entry(flow).or_default().push(run);
    }
    for (flow, runs) in &by_flow {
        for pair in runs.windows(2) {
            let gap = pair[1].at_ms - pair[0].at_ms;
            ensure(gap >= RUN_MS - SLACK_MS, || {
                format!(
                    "two jobs of flow key {flow} overlapped: the second started {gap} ms after the \
                     first, which runs {RUN_MS} ms (one job per key at a time)"
                )
            })?;
        }
    }
    let first = |flow: &str| {
        by_flow
            .get(flow)
            .and_then(|runs| runs.first())
            .map(|run| run.at_ms)
    };
    let (Some(one), Some(two)) = (first("account:1"), first("account:2")) else {
        return Err(crate::failure::Failure::new(format!(
            "runs of both keys expected: {runs:?}"
        )));
    };
    ensure((one - two).abs() < RUN_MS, || {
        format!(
            "the first jobs of two flow keys started {} ms apart: keys did not run in parallel",
            (one - two).abs()
        )
    })
}

/// A queue's running limit of 2 holds although the worker has 6 slots.
pub(crate) async fn queue_running_limit(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    ctx.probe()
        .admin()
        .set_queue_limits(
            QUEUE,
            QueueLimits {
                max_running: Some(2),
                rate: None,
            },
        )
        .await?;
    let jobs: Vec<JobSpec> = (0..6)
        .map(|_| JobSpec::new("conformance.sleep", json!({"key": key, "ms": RUN_MS})))
        .collect();
    let mut producer = ctx.producer().await?;
    producer
        .ok(&Request::EnqueueMany {
            queue: QUEUE.into(),
            jobs,
        })
        .await?;
    producer.finish().await?;
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 6)).await?;
    let mut most_leased = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        ensure(std::time::Instant::now() < deadline, || {
            "the 6 jobs under a running limit of 2 did not all run within 20 s".into()
        })?;
        let leased = ctx.probe().all_active_ids(QUEUE).await?.len();
        most_leased = most_leased.max(leased);
        ensure(leased <= 2, || {
            format!("{leased} jobs of the queue were leased at once; its running limit is 2")
        })?;
        if ctx.probe().runs(&key).await?.len() == 6 && leased == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let mut starts: Vec<i64> = ctx
        .probe()
        .runs(&key)
        .await?
        .iter()
        .map(|r| r.at_ms)
        .collect();
    starts.sort_unstable();
    for window in starts.windows(3) {
        let gap = window[2] - window[0];
        ensure(gap >= RUN_MS - SLACK_MS, || {
            format!(
                "three jobs started within {gap} ms of each other, each running {RUN_MS} ms: more \
                 than 2 ran at once under a running limit of 2"
            )
        })?;
    }
    ensure(most_leased >= 1, || "no job was ever seen leased".into())
}
