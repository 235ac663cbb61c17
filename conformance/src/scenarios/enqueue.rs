//! Enqueueing: one job, many in one call, delayed, with options, and
//! requests a producer must refuse without writing anything.

use std::time::Duration;

use jobqueue::JobState;
use serde_json::{Value, json};

use crate::failure::{Outcome, ensure, ensure_eq, eventually};
use crate::process::WorkerSpec;
use crate::protocol::{Backoff, JobSpec, Options, Request};
use crate::scenario::{Ctx, QUEUE};

const RECORD: &str = "conformance.record";

/// One job: stored ready with its id, type and payload; run once by the worker.
pub(crate) async fn single(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let payload = json!({"key": key, "note": "héllo \"wörld\" ✓"});
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(QUEUE, RECORD, payload.clone(), Options::default())
        .await?;
    let job =
        ctx.probe().job(QUEUE, &id).await?.ok_or_else(|| {
            crate::failure::Failure::new(format!("enqueued job {id} is not stored"))
        })?;
    ensure_eq("the stored job's state", job.state, JobState::Ready)?;
    ensure_eq(
        "the stored job's type",
        job.job_type.as_deref(),
        Some(RECORD),
    )?;
    ensure_eq("the stored job's attempt", job.attempt, 0)?;
    let stored: Value = serde_json::from_str(&job.payload).map_err(|err| {
        crate::failure::Failure::new(format!("stored payload is not JSON: {err}"))
    })?;
    ensure_eq("the stored payload", stored, payload)?;
    producer.finish().await?;

    let worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let runs = ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    ensure_eq("the run's job id", runs[0].id.as_str(), id.as_str())?;
    ensure_eq("the run's attempt", runs[0].attempt, 1)?;
    ensure_eq("the run's language", &runs[0].language, &worker.language)?;
    ctx.counter("processed", 1, Duration::from_secs(5)).await?;
    ensure(ctx.probe().job(QUEUE, &id).await?.is_none(), || {
        format!("job {id} succeeded but is still stored")
    })?;
    ensure_eq(
        "runs of a job that succeeded",
        ctx.probe().runs(&key).await?.len(),
        1,
    )
}

/// Many jobs in one call: distinct ids, stored in order, run in order (FIFO).
pub(crate) async fn bulk(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let jobs: Vec<JobSpec> = (0..20)
        .map(|n| JobSpec::new(RECORD, json!({"key": key, "n": n})))
        .collect();
    let mut producer = ctx.producer().await?;
    let ids = producer
        .ok(&Request::EnqueueMany {
            queue: QUEUE.into(),
            jobs,
        })
        .await?
        .ids();
    ensure_eq("ids returned for 20 jobs", ids.len(), 20)?;
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    ensure_eq("distinct ids among 20 jobs", distinct.len(), 20)?;
    let ready = ctx.probe().admin().list_ready(QUEUE, 0, 100).await?;
    let stored: Vec<String> = ready.iter().map(|job| job.id.to_string()).collect();
    ensure_eq("the ready list's ids, in order", &stored, &ids)?;
    producer.finish().await?;

    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 1)).await?;
    let runs = ctx.runs(&key, 20, Duration::from_secs(15)).await?;
    let ran: Vec<String> = runs.iter().map(|run| run.id.clone()).collect();
    ensure_eq("the order the jobs ran in (one slot: FIFO)", &ran, &ids)?;
    ctx.counter("processed", 20, Duration::from_secs(5)).await
}

/// A delayed job: scheduled at now + delay on the Redis clock, not run before it.
pub(crate) async fn delayed(ctx: Ctx) -> Outcome {
    const DELAY_MS: i64 = 1_500;
    let key = ctx.runs_key("runs");
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let mut producer = ctx.producer().await?;
    let before = ctx.probe().now_ms().await?;
    let options = Options {
        delay_ms: Some(DELAY_MS as u64),
        ..Options::default()
    };
    let id = producer
        .enqueue(QUEUE, RECORD, json!({"key": key}), options)
        .await?;
    let after = ctx.probe().now_ms().await?;
    let job = ctx.probe().job(QUEUE, &id).await?;
    let job = job.ok_or_else(|| crate::failure::Failure::new("the delayed job is not stored"))?;
    ensure_eq("a delayed job's state", job.state, JobState::Scheduled)?;
    let at = job.at.map(|at| at.timestamp_millis()).unwrap_or_default();
    ensure(
        at >= before + DELAY_MS - 50 && at <= after + DELAY_MS + 500,
        || {
            format!(
                "run-at is {} ms after the enqueue request and {} ms after its reply; expected \
                 the delay, {DELAY_MS} ms, from the enqueue",
                at - before,
                at - after
            )
        },
    )?;
    producer.finish().await?;
    let runs = ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    ensure(runs[0].at_ms >= before + DELAY_MS - 100, || {
        format!(
            "the delayed job ran {} ms after its enqueue, before its delay of {DELAY_MS} ms",
            runs[0].at_ms - before
        )
    })
}

/// Options reach the envelope as the protocol spells them; a given id is
/// the job's id and makes the enqueue idempotent; priority orders the queue.
pub(crate) async fn with_options(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let given = uuid::Uuid::now_v7().to_string();
    let options = Options {
        priority: Some(5),
        max_attempts: Some(7),
        timeout_ms: Some(60_000),
        backoff: Some(Backoff::Exponential {
            base_ms: 1_000,
            factor: 3.0,
            max_ms: 9_000,
        }),
        tags: Some(vec!["customer:42".into(), "conformance".into()]),
        id: Some(given.clone()),
        ..Options::default()
    };
    let mut producer = ctx.producer().await?;
    let payload = json!({"key": key, "which": "given id"});
    let id = producer
        .enqueue(QUEUE, RECORD, payload.clone(), options.clone())
        .await?;
    ensure_eq("the id of a job enqueued with a given id", &id, &given)?;
    let envelope = ctx.envelope(&id).await?;
    ensure_eq(
        "envelope priority",
        envelope.get("priority"),
        Some(&json!(5)),
    )?;
    ensure_eq(
        "envelope max_attempts",
        envelope.get("max_attempts"),
        Some(&json!(7)),
    )?;
    ensure_eq(
        "envelope timeout_ms",
        envelope.get("timeout_ms"),
        Some(&json!(60_000)),
    )?;
    ensure_eq(
        "envelope tags",
        envelope.get("tags"),
        Some(&json!(["customer:42", "conformance"])),
    )?;
    let backoff = envelope.get("backoff").cloned().unwrap_or(Value::Null);
    ensure(
        backoff.get("kind") == Some(&json!("exponential"))
            && backoff.get("base_ms") == Some(&json!(1_000))
            && backoff.get("factor").and_then(Value::as_f64) == Some(3.0)
            && backoff.get("max_ms") == Some(&json!(9_000)),
        || format!("envelope backoff {backoff} is not exponential 1000 ms × 3 up to 9000 ms"),
    )?;
    // The same enqueue again (a retry) is the same job, stored once.
    let again = producer.enqueue(QUEUE, RECORD, payload, options).await?;
    ensure_eq("the id of the repeated enqueue", &again, &given)?;
    let prioritised = ctx.probe().admin().list_prioritised(QUEUE, 0, 100).await?;
    let copies = prioritised
        .iter()
        .filter(|job| job.id.to_string() == given)
        .count();
    ensure_eq(
        "copies stored of a job enqueued twice with one id",
        copies,
        1,
    )?;

    // Priority: a later job with a higher priority runs first.
    let low = producer
        .enqueue(
            QUEUE,
            RECORD,
            json!({"key": key, "which": "low"}),
            Options::default(),
        )
        .await?;
    let high = producer
        .enqueue(
            QUEUE,
            RECORD,
            json!({"key": key, "which": "high"}),
            Options {
                priority: Some(50),
                ..Options::default()
            },
        )
        .await?;
    producer.finish().await?;
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 1)).await?;
    let runs = ctx.runs(&key, 3, Duration::from_secs(10)).await?;
    let order: Vec<&str> = runs.iter().map(|run| run.id.as_str()).collect();
    ensure_eq(
        "run order (priority 50, then 5, then 0)",
        order,
        vec![high.as_str(), given.as_str(), low.as_str()],
    )
}

/// Bad requests are refused as `invalid` with nothing written; the
/// producer keeps answering.
pub(crate) async fn refuses_invalid(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let mut producer = ctx.producer().await?;
    // One good job first, so the queue and prefix exist and only additions show.
    producer
        .enqueue(QUEUE, RECORD, json!({"key": key}), Options::default())
        .await?;
    let before = ctx.probe().key_count().await?;
    let bad: Vec<(&str, Request)> = vec![
        (
            "a queue name with a space",
            Request::Enqueue {
                queue: "no such queue!".into(),
                job_type: RECORD.into(),
                payload: json!({}),
                options: Options::default(),
            },
        ),
        (
            "a job type name with a space",
            Request::Enqueue {
                queue: QUEUE.into(),
                job_type: "not a type".into(),
                payload: json!({}),
                options: Options::default(),
            },
        ),
        (
            "priority 1000 (the range is -100..100)",
            Request::Enqueue {
                queue: QUEUE.into(),
                job_type: RECORD.into(),
                payload: json!({}),
                options: Options {
                    priority: Some(1_000),
                    ..Options::default()
                },
            },
        ),
        (
            "max_attempts 0",
            Request::Enqueue {
                queue: QUEUE.into(),
                job_type: RECORD.into(),
                payload: json!({}),
                options: Options {
                    max_attempts: Some(0),
                    ..Options::default()
                },
            },
        ),
        (
            "a bulk call with one bad job among good ones",
            Request::EnqueueMany {
                queue: QUEUE.into(),
                jobs: vec![
                    JobSpec::new(RECORD, json!({"key": key})),
                    JobSpec::new(RECORD, json!({})).with(Options {
                        priority: Some(-1_000),
                        ..Options::default()
                    }),
                ],
            },
        ),
    ];
    for (what, request) in &bad {
        let reply = producer.request(request).await?;
        ensure_eq(
            &format!("the error kind for {what} (reply {reply})"),
            reply.error_kind(),
            Some("invalid"),
        )?;
        ensure(reply.str("message").is_some_and(|m| !m.is_empty()), || {
            format!("the refusal of {what} has no message: {reply}")
        })?;
    }
    let reply = producer.send_line("{this is not json").await?;
    ensure_eq(
        &format!("the error kind for a line that is not JSON (reply {reply})"),
        reply.error_kind(),
        Some("invalid"),
    )?;
    let after = ctx.probe().key_count().await?;
    ensure_eq(
        "keys under the prefix after refused requests",
        after,
        before,
    )?;
    ensure_eq(
        "jobs in the ready list after refused requests",
        ctx.probe().admin().list_ready(QUEUE, 0, 100).await?.len(),
        1,
    )?;
    // Still answering, and the good job runs.
    producer
        .enqueue(QUEUE, RECORD, json!({"key": key}), Options::default())
        .await?;
    producer.finish().await?;
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    ctx.runs(&key, 2, Duration::from_secs(10)).await?;
    eventually(Duration::from_secs(5), || async {
        ctx.counter("processed", 2, Duration::ZERO).await
    })
    .await
}
