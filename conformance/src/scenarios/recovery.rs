//! When workers go away: a crashed worker's lease lapses and another
//! worker reclaims its job; a graceful stop finishes what it can within
//! the grace and hands the rest back.

use std::time::Duration;

use jobqueue::JobState;
use serde_json::{Value, json};

use crate::failure::{Failure, Outcome, ensure, ensure_eq, eventually};
use crate::process::WorkerSpec;
use crate::protocol::Options;
use crate::scenario::{Ctx, QUEUE};

const LEASE_MS: u64 = 1_000;

/// A worker killed mid-run (SIGKILL): its lease lapses, another worker
/// reclaims the job (attempt counted, `reclaimed` counted) and runs it again.
pub(crate) async fn reclaim_after_kill(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let spec = WorkerSpec::on(QUEUE, 1).lease_ms(LEASE_MS);
    let mut doomed = ctx.worker(&spec).await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(
            QUEUE,
            "conformance.sleep",
            json!({"key": key, "ms": 4_000}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    // Killed well within its 4 s run, even on a loaded machine.
    doomed.kill().await?;
    let survivor = ctx.worker(&spec).await?;
    let runs = ctx.runs(&key, 2, Duration::from_secs(15)).await?;
    ensure_eq("the rerun's job id", runs[1].id.as_str(), id.as_str())?;
    ensure_eq(
        "the rerun's attempt (the lost run counts)",
        runs[1].attempt,
        2,
    )?;
    ensure_eq(
        "the rerun's language",
        &runs[1].language,
        &survivor.language,
    )?;
    ctx.counter("reclaimed", 1, Duration::from_secs(3)).await?;
    ctx.counter("processed", 1, Duration::from_secs(10)).await?;
    ensure_eq("runs of the job", ctx.probe().runs(&key).await?.len(), 2)
}

/// A worker that crashes (exit 3) on a job's only attempt: another worker
/// reclaims it and buries it as exhausted instead of running it again.
pub(crate) async fn crashed_job_out_of_attempts(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let spec = WorkerSpec::on(QUEUE, 1).lease_ms(LEASE_MS);
    let mut crashing = ctx.worker(&spec).await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(
            QUEUE,
            "conformance.crash",
            json!({"key": key}),
            Options {
                max_attempts: Some(1),
                ..Options::default()
            },
        )
        .await?;
    producer.finish().await?;
    let status = crashing.wait_exit(Duration::from_secs(10)).await?;
    ensure_eq("the crash handler's exit code", status.code(), Some(3))?;
    let _survivor = ctx.worker(&spec).await?;
    let job = eventually(Duration::from_secs(10), || async {
        ctx.probe()
            .job(QUEUE, &id)
            .await?
            .filter(|job| job.state == JobState::Dead)
            .ok_or_else(|| Failure::new(format!("the crashed job {id} is not in the dead set")))
    })
    .await?;
    let last = job
        .errors
        .last()
        .ok_or_else(|| Failure::new("the exhausted job has no error entry"))?;
    let kind = serde_json::to_value(last.kind).unwrap_or(Value::Null);
    ensure(kind == json!("exhausted") || kind == json!("lost"), || {
        format!(
            "the last error of a job lost on its only attempt is {kind}, expected exhausted: {last:?}"
        )
    })?;
    ensure_eq(
        "runs of a job with one attempt",
        ctx.probe().runs(&key).await?.len(),
        1,
    )?;
    ctx.counter("reclaimed", 1, Duration::from_secs(3)).await?;
    ctx.counter("dead", 1, Duration::from_secs(3)).await
}

/// SIGTERM with a job running past the grace: the worker exits 0, hands the
/// job (and any it had fetched) back to the head of the queue without
/// counting an attempt, drops its lease and deregisters.
pub(crate) async fn shutdown_hands_back(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let mut worker = ctx
        .worker(&WorkerSpec::on(QUEUE, 1).lease_ms(3_000).grace_ms(300))
        .await?;
    let mut producer = ctx.producer().await?;
    let long = producer
        .enqueue(
            QUEUE,
            "conformance.sleep",
            json!({"key": key, "ms": 30_000}),
            Options::default(),
        )
        .await?;
    let next = producer
        .enqueue(
            QUEUE,
            "conformance.record",
            json!({"key": key}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    worker.terminate()?;
    // A 300 ms grace, then the hand-back: well under a second on a quiet
    // machine; the margin is for a CI machine starved of CPU (a run there
    // took 3–7 s for scenarios that take under one here).
    let status = worker.wait_exit(Duration::from_secs(20)).await?;
    ensure_eq("the exit code of a graceful stop", status.code(), Some(0))?;
    let probe = ctx.probe();
    for id in [&long, &next] {
        let job = probe
            .job(QUEUE, id)
            .await?
            .ok_or_else(|| Failure::new(format!("job {id} was lost at shutdown")))?;
        ensure_eq(
            &format!("state of job {id} after the stop"),
            job.state,
            JobState::Ready,
        )?;
        ensure_eq(&format!("attempt of job {id} handed back"), job.attempt, 0)?;
    }
    let ready = probe.admin().list_ready(QUEUE, 0, 10).await?;
    ensure_eq(
        "the head of the queue after the hand-back",
        ready.first().map(|job| job.id.to_string()),
        Some(long.clone()),
    )?;
    ensure_eq("runs after the stop", probe.runs(&key).await?.len(), 1)?;
    ensure(
        probe
            .lease_deadline(QUEUE, &worker.worker_id)
            .await?
            .is_none(),
        || "the stopped worker still holds its lease".into(),
    )?;
    ensure(
        probe.worker_info(&worker.worker_id).await?.is_empty(),
        || "the stopped worker's hash P:worker:<wid> is still there".into(),
    )?;
    ensure(!probe.listed_worker(&worker.worker_id).await?, || {
        "P:workers still lists the stopped worker".into()
    })?;
    let counters = probe.counters(QUEUE).await?;
    ensure_eq(
        "failed counter after a hand-back",
        counters.get("failed"),
        0,
    )?;
    ensure_eq(
        "processed counter after a hand-back",
        counters.get("processed"),
        0,
    )
}

/// SIGTERM with a job that ends within the grace: it finishes, is acked,
/// and the worker exits 0.
pub(crate) async fn shutdown_finishes_within_grace(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let mut worker = ctx
        .worker(&WorkerSpec::on(QUEUE, 1).grace_ms(8_000))
        .await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(
            QUEUE,
            "conformance.sleep",
            json!({"key": key, "ms": 1_000}),
            Options {
                track: Some(true),
                ..Options::default()
            },
        )
        .await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    worker.terminate()?;
    let status = worker.wait_exit(Duration::from_secs(10)).await?;
    ensure_eq("the exit code of a graceful stop", status.code(), Some(0))?;
    let reply = producer
        .ok(&crate::protocol::Request::Status {
            queue: QUEUE.into(),
            id: id.clone(),
        })
        .await?;
    producer.finish().await?;
    ensure_eq(
        "status of a job that finished within the grace",
        reply.0.pointer("/status/state").cloned(),
        Some(json!("succeeded")),
    )?;
    ensure_eq(
        "processed counter",
        ctx.probe().counters(QUEUE).await?.get("processed"),
        1,
    )?;
    ensure(ctx.probe().job(QUEUE, &id).await?.is_none(), || {
        format!("job {id} finished within the grace but is still stored")
    })
}
