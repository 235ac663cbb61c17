//! Cancellation by an operator (`cancel.lua`, then `c<id>` on the events
//! channel): a running job stops and frees its slot; a waiting one never runs.

use std::time::Duration;

use jobqueue::JobState;
use jobqueue::{CancelOutcome, CancelledFrom};
use serde_json::json;

use crate::failure::{Failure, Outcome, ensure, ensure_eq, eventually};
use crate::process::WorkerSpec;
use crate::protocol::Options;
use crate::scenario::{Ctx, QUEUE};

fn uuid(id: &str) -> Outcome<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|err| Failure::new(err.to_string()))
}

/// A running job cancelled by an operator stops: with one slot, the next
/// job runs at once; nothing is counted processed or failed.
pub(crate) async fn running_job_stops(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let after_key = ctx.runs_key("after");
    let worker = ctx
        .worker(&WorkerSpec::on(QUEUE, 1).lease_ms(1_200))
        .await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(
            QUEUE,
            "conformance.sleep",
            json!({"key": key, "ms": 30_000}),
            Options {
                track: Some(true),
                ..Options::default()
            },
        )
        .await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    let outcome = ctx.probe().admin().cancel(QUEUE, uuid(&id)?).await?;
    ensure_eq(
        "cancelling the running job",
        outcome,
        CancelOutcome::Cancelled {
            from: CancelledFrom::Active,
        },
    )?;
    // One slot: the next job can only run once the cancelled one let go of it.
    producer
        .enqueue(
            QUEUE,
            "conformance.record",
            json!({"key": after_key}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    ctx.runs(&after_key, 1, Duration::from_secs(5))
        .await
        .map_err(|failure| {
            Failure::new(format!(
                "the cancelled job kept its worker's only slot (a job enqueued after the cancel \
                 did not run): {failure}"
            ))
        })?;
    let job = ctx.probe().job(QUEUE, &id).await?;
    ensure_eq(
        "the cancelled job's state",
        job.map(|job| job.state),
        Some(JobState::Cancelled),
    )?;
    ctx.counter("cancelled", 1, Duration::from_secs(3)).await?;
    ctx.counter("processed", 1, Duration::from_secs(3)).await?;
    let counters = ctx.probe().counters(QUEUE).await?;
    ensure_eq("failed counter after a cancel", counters.get("failed"), 0)?;
    ensure_eq(
        "runs of the cancelled job",
        ctx.probe().runs(&key).await?.len(),
        1,
    )?;
    ensure(
        !ctx.probe()
            .active_ids(QUEUE, &worker.worker_id)
            .await?
            .contains(&id),
        || "the cancelled job is still in the worker's active hash".into(),
    )
}

/// A job cancelled while it waits (delayed) never runs.
pub(crate) async fn waiting_job_never_runs(ctx: Ctx) -> Outcome {
    const DELAY_MS: u64 = 5_000;
    let key = ctx.runs_key("runs");
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(
            QUEUE,
            "conformance.record",
            json!({"key": key}),
            Options {
                delay_ms: Some(DELAY_MS),
                ..Options::default()
            },
        )
        .await?;
    let enqueued = std::time::Instant::now();
    let outcome = ctx.probe().admin().cancel(QUEUE, uuid(&id)?).await?;
    ensure_eq(
        "cancelling the delayed job",
        outcome,
        CancelOutcome::Cancelled {
            from: CancelledFrom::Scheduled,
        },
    )?;
    let control = producer
        .enqueue(
            QUEUE,
            "conformance.record",
            json!({"key": key}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    // Past the cancelled job's run-at, with time for a worker to take it.
    let past_due = Duration::from_millis(DELAY_MS + 800);
    tokio::time::sleep(past_due.saturating_sub(enqueued.elapsed())).await;
    let runs = ctx.probe().runs(&key).await?;
    let ran: Vec<&str> = runs.iter().map(|run| run.id.as_str()).collect();
    ensure_eq(
        "jobs that ran (the cancelled one must not)",
        ran,
        vec![control.as_str()],
    )?;
    eventually(Duration::from_secs(2), || async {
        let state = ctx.probe().job(QUEUE, &id).await?.map(|job| job.state);
        ensure_eq(
            "the cancelled job's state",
            state,
            Some(JobState::Cancelled),
        )
    })
    .await
}
