//! Reading statuses and results through the implementation (`status`
//! requests): a tracked job is `queued` or `scheduled` before it runs,
//! `succeeded` with its result or `dead` with its error after; an
//! unknown id has none. Also the cross-implementation basic path.

use std::time::Duration;

use serde_json::{Value, json};

use crate::failure::{Outcome, ensure, ensure_eq};
use crate::process::{Producer, WorkerSpec};
use crate::protocol::{Options, Reply, Request};
use crate::scenario::{Ctx, QUEUE};

fn tracked() -> Options {
    Options {
        track: Some(true),
        ..Options::default()
    }
}

async fn status(producer: &mut Producer, id: &str) -> Outcome<Reply> {
    producer
        .ok(&Request::Status {
            queue: QUEUE.into(),
            id: id.to_owned(),
        })
        .await
}

async fn final_status(producer: &mut Producer, id: &str, state: &str) -> Outcome<Reply> {
    producer
        .wait_status(QUEUE, id, state, Duration::from_secs(10))
        .await
}

pub(crate) async fn lifecycle(ctx: Ctx) -> Outcome {
    let payload = json!({"answer": 42, "why": "ünïcode ✓"});
    let mut producer = ctx.producer().await?;
    let echo = producer
        .enqueue(QUEUE, "conformance.echo", payload.clone(), tracked())
        .await?;
    let later = producer
        .enqueue(
            QUEUE,
            "conformance.echo",
            json!(1),
            Options {
                delay_ms: Some(600_000),
                ..tracked()
            },
        )
        .await?;
    let doomed = producer
        .enqueue(
            QUEUE,
            "conformance.permanent",
            json!({"message": "card declined"}),
            tracked(),
        )
        .await?;
    let reply = status(&mut producer, &echo).await?;
    ensure_eq(
        "status before a worker runs it",
        reply.0.pointer("/status/state").cloned(),
        Some(json!("queued")),
    )?;
    let reply = status(&mut producer, &later).await?;
    ensure_eq(
        "status of a delayed job",
        reply.0.pointer("/status/state").cloned(),
        Some(json!("scheduled")),
    )?;
    let unknown = uuid::Uuid::now_v7().to_string();
    let reply = status(&mut producer, &unknown).await?;
    ensure_eq(
        "status of an unknown id",
        reply.0.get("status").cloned(),
        Some(Value::Null),
    )?;

    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let reply = final_status(&mut producer, &echo, "succeeded").await?;
    ensure_eq(
        "the result read back",
        reply.0.pointer("/status/result").cloned(),
        Some(payload),
    )?;
    let reply = final_status(&mut producer, &doomed, "dead").await?;
    let error = reply
        .0
        .pointer("/status/error")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    ensure(error.contains("card declined"), || {
        format!("the dead job's status error {error:?} does not carry the handler's message")
    })?;
    producer.finish().await
}

/// The basic path across implementations: the producer enqueues a tracked
/// job, the worker runs it, the producer reads its result.
pub(crate) async fn enqueue_run_result(ctx: Ctx) -> Outcome {
    let payload = json!({"from": ctx.producer.name, "to": ctx.worker.name, "nested": {"list": [1, "two", 3.5]}});
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(QUEUE, "conformance.echo", payload.clone(), tracked())
        .await?;
    let reply = final_status(&mut producer, &id, "succeeded").await?;
    ensure_eq(
        "the result read back",
        reply.0.pointer("/status/result").cloned(),
        Some(payload),
    )?;
    producer.finish().await?;
    ctx.counter("processed", 1, Duration::from_secs(3)).await?;
    ensure(ctx.probe().job(QUEUE, &id).await?.is_none(), || {
        format!("job {id} succeeded but is still stored")
    })
}
