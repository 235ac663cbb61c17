//! Unique jobs: while a job holds its uniqueness lock, an equal job (same
//! type and payload, or the same unique key) is a duplicate answered with
//! the holder's id; the lock goes when the job ends.

use std::time::Duration;

use serde_json::json;

use crate::failure::{Outcome, ensure, ensure_eq};
use crate::process::WorkerSpec;
use crate::protocol::{Options, Request};
use crate::scenario::{Ctx, QUEUE};

pub(crate) async fn duplicate_returns_the_holder(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let unique = |unique_key: Option<&str>| Options {
        unique_for_ms: Some(60_000),
        unique_key: unique_key.map(str::to_owned),
        ..Options::default()
    };
    let enqueue = |payload: serde_json::Value, options: Options| Request::Enqueue {
        queue: QUEUE.into(),
        job_type: "conformance.record".into(),
        payload,
        options,
    };
    let mut producer = ctx.producer().await?;
    let first = producer
        .ok(&enqueue(json!({"key": key, "n": 1}), unique(None)))
        .await?;
    ensure(
        first.0.get("duplicate").is_none_or(|d| d == &json!(false)),
        || format!("the first unique job was answered as a duplicate: {first}"),
    )?;
    let holder = first.str("id").unwrap_or_default().to_owned();
    let again = producer
        .ok(&enqueue(json!({"key": key, "n": 1}), unique(None)))
        .await?;
    ensure_eq(
        "duplicate flag of an equal job",
        again.0.get("duplicate"),
        Some(&json!(true)),
    )?;
    ensure_eq(
        "id answered for an equal job",
        again.str("id"),
        Some(holder.as_str()),
    )?;
    // With a unique key the payload does not matter.
    let keyed = producer
        .ok(&enqueue(
            json!({"key": key, "n": 2}),
            unique(Some("report:7")),
        ))
        .await?;
    let keyed_id = keyed.str("id").unwrap_or_default().to_owned();
    let keyed_again = producer
        .ok(&enqueue(
            json!({"key": key, "n": 3}),
            unique(Some("report:7")),
        ))
        .await?;
    ensure_eq(
        "duplicate flag of a job with a held unique key",
        keyed_again.0.get("duplicate"),
        Some(&json!(true)),
    )?;
    ensure_eq(
        "id answered for a held unique key",
        keyed_again.str("id"),
        Some(keyed_id.as_str()),
    )?;
    ensure_eq(
        "jobs stored after two duplicates",
        ctx.probe().admin().list_ready(QUEUE, 0, 10).await?.len(),
        2,
    )?;
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    ctx.runs(&key, 2, Duration::from_secs(10)).await?;
    ctx.counter("processed", 2, Duration::from_secs(5)).await?;
    // The lock went with the job: the same job is new again. The ack frees the lock in the same step; allow for the reply's way back.
    let mut fresh = producer
        .ok(&enqueue(json!({"key": key, "n": 1}), unique(None)))
        .await?;
    for _ in 0..20 {
        if fresh.0.get("duplicate") != Some(&json!(true)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        fresh = producer
            .ok(&enqueue(json!({"key": key, "n": 1}), unique(None)))
            .await?;
    }
    ensure(fresh.0.get("duplicate") != Some(&json!(true)), || {
        format!(
            "after the unique job succeeded an equal job is still a duplicate: {fresh} (the ack must free the lock)"
        )
    })?;
    ensure(fresh.str("id") != Some(holder.as_str()), || {
        "the job enqueued after the holder ended has the holder's id".into()
    })?;
    producer.finish().await?;
    ctx.runs(&key, 3, Duration::from_secs(10)).await?;
    Ok(())
}
