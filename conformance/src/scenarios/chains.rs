//! Chains: each job runs only after the previous one succeeded; a dead
//! link dead-letters the rest instead of running it.

use std::time::Duration;

use jobqueue::JobState;
use serde_json::json;

use crate::failure::{Failure, Outcome, ensure, ensure_eq, eventually};
use crate::process::WorkerSpec;
use crate::protocol::{JobSpec, Request};
use crate::scenario::{Ctx, QUEUE};

/// Three links run one after the other, in order, although the worker has
/// three slots; the later links wait until then.
pub(crate) async fn runs_in_order(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let jobs = (0..3)
        .map(|n| {
            JobSpec::new(
                "conformance.sleep",
                json!({"key": key, "ms": 300, "link": n}),
            )
        })
        .collect();
    let mut producer = ctx.producer().await?;
    let ids = producer
        .ok(&Request::Chain {
            queue: QUEUE.into(),
            jobs,
        })
        .await?
        .ids();
    producer.finish().await?;
    ensure_eq("ids of a chain of 3", ids.len(), 3)?;
    for id in &ids[1..] {
        let state = ctx.probe().job(QUEUE, id).await?.map(|job| job.state);
        ensure_eq(
            &format!("state of chained job {id} before its parent ran"),
            state,
            Some(JobState::Waiting),
        )?;
    }
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 3)).await?;
    let runs = ctx.runs(&key, 3, Duration::from_secs(15)).await?;
    let order: Vec<&str> = runs.iter().map(|run| run.id.as_str()).collect();
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    ensure_eq("the order the chain ran in", order, expected)?;
    for pair in runs.windows(2) {
        ensure(pair[1].at_ms - pair[0].at_ms >= 250, || {
            format!(
                "a chained job started {} ms after its parent, which runs 300 ms: it did not wait",
                pair[1].at_ms - pair[0].at_ms
            )
        })?;
    }
    ctx.counter("processed", 3, Duration::from_secs(5)).await
}

/// A link that dies stops the chain: the next link is dead-lettered
/// without running, and so is the one after it.
pub(crate) async fn dead_parent_stops_the_rest(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let jobs = vec![
        JobSpec::new("conformance.record", json!({"key": key})),
        JobSpec::new(
            "conformance.permanent",
            json!({"message": "link 2 gives up"}),
        ),
        JobSpec::new("conformance.record", json!({"key": key})),
    ];
    let mut producer = ctx.producer().await?;
    let ids = producer
        .ok(&Request::Chain {
            queue: QUEUE.into(),
            jobs,
        })
        .await?
        .ids();
    producer.finish().await?;
    let last = ids
        .get(2)
        .ok_or_else(|| Failure::new(format!("a chain of 3 returned {} ids", ids.len())))?;
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 3)).await?;
    eventually(Duration::from_secs(10), || async {
        let state = ctx.probe().job(QUEUE, last).await?.map(|job| job.state);
        ensure_eq(
            "state of the link after a dead one",
            state,
            Some(JobState::Dead),
        )
    })
    .await?;
    let runs = ctx.probe().runs(&key).await?;
    ensure_eq("recorded runs (only the first link)", runs.len(), 1)?;
    ensure_eq("the link that ran", runs[0].id.as_str(), ids[0].as_str())
}
