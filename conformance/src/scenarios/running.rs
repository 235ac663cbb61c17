//! Running jobs: fetch under a lease, the heartbeat that renews it, the
//! ack, retries with the job's backoff, and burial with the error history.

use std::time::Duration;

use jobqueue::JobState;
use serde_json::{Value, json};

use crate::failure::{Failure, Outcome, ensure, ensure_eq, eventually};
use crate::process::WorkerSpec;
use crate::protocol::{Backoff, Options};
use crate::scenario::{Ctx, QUEUE};

/// A leased job sits in the worker's active hash under a live lease, and
/// the worker publishes itself (language, queues) while it runs.
pub(crate) async fn fetch_with_lease(ctx: Ctx) -> Outcome {
    const LEASE_MS: u64 = 3_000;
    let key = ctx.runs_key("runs");
    let worker = ctx
        .worker(&WorkerSpec::on(QUEUE, 2).lease_ms(LEASE_MS))
        .await?;
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
    let probe = ctx.probe();
    let active = probe.active_ids(QUEUE, &worker.worker_id).await?;
    ensure(active.contains(&id), || {
        format!("the running job {id} is not in its worker's active hash (found {active:?})")
    })?;
    let deadline = probe.lease_deadline(QUEUE, &worker.worker_id).await?;
    let now = probe.now_ms().await? as f64;
    let deadline = deadline.ok_or_else(|| {
        Failure::new("the worker holds no lease on the queue (P:{Q}:leases) while running a job")
    })?;
    ensure(
        deadline > now && deadline <= now + LEASE_MS as f64 + 500.0,
        || {
            format!(
                "lease deadline is {} ms from now, expected within (0, {LEASE_MS}]",
                deadline - now
            )
        },
    )?;
    let info = probe.worker_info(&worker.worker_id).await?;
    ensure_eq(
        "the worker hash's language",
        info.get("language").map(String::as_str),
        Some(worker.language.as_str()),
    )?;
    ensure(
        info.get("queues")
            .is_some_and(|queues| queues.split(',').any(|q| q == QUEUE)),
        || format!("the worker hash does not list the queue: {info:?}"),
    )?;
    ensure(probe.listed_worker(&worker.worker_id).await?, || {
        "P:workers does not list the running worker".into()
    })?;
    eventually(Duration::from_secs(3), || async {
        let busy = probe
            .worker_info(&worker.worker_id)
            .await?
            .get("busy")
            .cloned();
        ensure_eq(
            "the worker hash's busy slots while a job runs",
            busy.as_deref(),
            Some("1"),
        )
    })
    .await?;
    ctx.counter("processed", 1, Duration::from_secs(5)).await?;
    ensure_eq(
        "the active hash after the job succeeded",
        probe.active_ids(QUEUE, &worker.worker_id).await?,
        Vec::<String>::new(),
    )
}

/// The heartbeat renews the lease: a job running for three leases never
/// sees its lease lapse — sampled on the Redis clock, and witnessed by a
/// second worker that would reclaim and rerun the job if it did — and runs once.
pub(crate) async fn heartbeat(ctx: Ctx) -> Outcome {
    const LEASE_MS: u64 = 1_200;
    const RUN_MS: u64 = 4_000;
    let key = ctx.runs_key("runs");
    let spec = WorkerSpec::on(QUEUE, 1).lease_ms(LEASE_MS);
    let worker = ctx.worker(&spec).await?;
    let mut producer = ctx.producer().await?;
    producer
        .enqueue(
            QUEUE,
            "conformance.sleep",
            json!({"key": key, "ms": RUN_MS}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    // Reaps lapsed leases every lease/6: it would take the job over.
    let _witness = ctx.worker(&spec).await?;
    let probe = ctx.probe();
    let (mut first, mut last) = (None, (0, 0.0));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while probe.counters(QUEUE).await?.get("processed") < 1 {
        ensure(tokio::time::Instant::now() < deadline, || {
            "the job did not finish within 20 s".into()
        })?;
        let now = probe.now_ms().await?;
        let lease = probe.lease_deadline(QUEUE, &worker.worker_id).await?;
        let lease = lease.ok_or_else(|| {
            Failure::new(
                "the worker's lease vanished while its job ran (heartbeat not renewing it)",
            )
        })?;
        ensure(lease > now as f64, || {
            format!(
                "the lease lapsed while the job ran: deadline {} ms in the past — the heartbeat \
                 did not renew it (heartbeat.lua every lease/6)",
                now as f64 - lease
            )
        })?;
        first.get_or_insert((now, lease));
        last = (now, lease);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if let Some((first_now, first_lease)) = first
        && last.0 - first_now > LEASE_MS as i64
    {
        ensure(last.1 > first_lease, || {
            format!(
                "over {} ms of the run the lease deadline did not move",
                last.0 - first_now
            )
        })?;
    }
    ensure_eq(
        "runs of a job whose lease was kept (a second run means another worker reclaimed it)",
        probe.runs(&key).await?.len(),
        1,
    )?;
    ensure_eq(
        "jobs reclaimed from a live worker",
        probe.counters(QUEUE).await?.get("reclaimed"),
        0,
    )
}

/// Success: the job leaves every place, `processed` counts it, and its
/// result is the tracked status's result.
pub(crate) async fn ack_with_result(ctx: Ctx) -> Outcome {
    let payload = json!({"list": [1, 2.5, "three", null], "text": "ünïcode ✓ \"quoted\"", "n": -7});
    let worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let mut producer = ctx.producer().await?;
    let id = producer
        .enqueue(
            QUEUE,
            "conformance.echo",
            payload.clone(),
            Options {
                track: Some(true),
                ..Options::default()
            },
        )
        .await?;
    producer.finish().await?;
    ctx.counter("processed", 1, Duration::from_secs(10)).await?;
    let uuid = uuid::Uuid::parse_str(&id).map_err(|err| Failure::new(err.to_string()))?;
    let status = eventually(Duration::from_secs(3), || async {
        let status = ctx
            .probe()
            .client()
            .store()
            .job_status_in(QUEUE, uuid)
            .await?;
        status
            .filter(|s| s.state.as_str() == "succeeded")
            .ok_or_else(|| Failure::new(format!("job {id} has no succeeded status")))
    })
    .await?;
    ensure_eq("the succeeded job's result", status.result, Some(payload))?;
    ensure(ctx.probe().job(QUEUE, &id).await?.is_none(), || {
        format!("job {id} succeeded but is still stored")
    })?;
    ensure_eq(
        "failed counter",
        ctx.probe().counters(QUEUE).await?.get("failed"),
        0,
    )?;
    ensure_eq(
        "the worker's active hash after the ack",
        ctx.probe().active_ids(QUEUE, &worker.worker_id).await?,
        Vec::<String>::new(),
    )
}

/// The (attempt, delay ms) of each retry of job `id` as it waits in the
/// retry set: the retry-at score minus the failed attempt's error time.
async fn watch_retries(ctx: &Ctx, id: &str, count: usize) -> Outcome<Vec<(u64, f64)>> {
    let keys = ctx.probe().keys(QUEUE)?;
    let mut redis = ctx.probe().redis();
    let mut seen: Vec<(u64, f64)> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while seen.len() < count && tokio::time::Instant::now() < deadline {
        // One atomic read: the retry-at and the record it belongs to (the
        // job may be promoted, run and fail again between two reads).
        let (score, record): (Option<f64>, Option<Vec<u8>>) = redis::pipe()
            .atomic()
            .zscore(keys.retry(), id)
            .hget(keys.jobs(), id)
            .query_async(&mut redis)
            .await?;
        if let (Some(score), Some(record)) = (score, record) {
            let envelope = envelope_of(&record)?;
            let last = envelope
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|errors| errors.last().cloned())
                .ok_or_else(|| {
                    Failure::new(format!(
                        "job {id} waits for a retry without an error entry in its record: {envelope}"
                    ))
                })?;
            let attempt = last.get("attempt").and_then(Value::as_u64).unwrap_or(0);
            let at = last.get("at").and_then(Value::as_f64).unwrap_or(0.0);
            if !seen.iter().any(|(a, _)| *a == attempt) {
                seen.push((attempt, score - at));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure(seen.len() >= count, || {
        format!(
            "saw {} of {count} retries of job {id} in the retry set: {seen:?}",
            seen.len()
        )
    })?;
    Ok(seen)
}

/// The envelope of a stored record (the JSON before its first newline).
fn envelope_of(record: &[u8]) -> Outcome<Value> {
    let end = record
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(record.len());
    serde_json::from_slice(&record[..end])
        .map_err(|err| Failure::new(format!("a retrying job's envelope is not JSON: {err}")))
}

/// Failed attempts go to the retry set after the job's backoff (fixed and
/// exponential), then the job succeeds on the attempt it was told to.
pub(crate) async fn retry_with_backoff(ctx: Ctx) -> Outcome {
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let mut producer = ctx.producer().await?;
    let fail = |backoff: Backoff| Options {
        max_attempts: Some(5),
        backoff: Some(backoff),
        track: Some(true),
        ..Options::default()
    };
    let fixed = producer
        .enqueue(
            QUEUE,
            "conformance.fail",
            json!({"message": "fixed says no", "succeed_on_attempt": 3}),
            fail(Backoff::FixedMs(600)),
        )
        .await?;
    let exponential = producer
        .enqueue(
            QUEUE,
            "conformance.fail",
            json!({"message": "exponential says no", "succeed_on_attempt": 3}),
            fail(Backoff::Exponential {
                base_ms: 400,
                factor: 2.0,
                max_ms: 10_000,
            }),
        )
        .await?;
    let (fixed_retries, exponential_retries) = tokio::join!(
        watch_retries(&ctx, &fixed, 2),
        watch_retries(&ctx, &exponential, 2)
    );
    let close = |delay: f64, expected: f64| (delay - expected).abs() <= 150.0;
    let fixed_retries = fixed_retries?;
    ensure(
        fixed_retries.iter().all(|(_, delay)| close(*delay, 600.0)),
        || format!("fixed 600 ms backoff: (attempt, delay) seen {fixed_retries:?}"),
    )?;
    let exponential_retries = exponential_retries?;
    let expected = |attempt: u64| 400.0 * 2f64.powi(attempt.saturating_sub(1) as i32);
    ensure(
        exponential_retries
            .iter()
            .all(|(attempt, delay)| close(*delay, expected(*attempt))),
        || {
            format!(
                "exponential backoff 400 ms × 2: expected 400 then 800 ms, (attempt, delay) seen {exponential_retries:?}"
            )
        },
    )?;
    for id in [&fixed, &exponential] {
        let reply = producer
            .wait_status(QUEUE, id, "succeeded", Duration::from_secs(10))
            .await?;
        ensure_eq(
            "the result of a job that succeeded on attempt 3",
            reply.0.pointer("/status/result").cloned(),
            Some(json!({"attempt": 3})),
        )?;
    }
    producer.finish().await?;
    ctx.counter("processed", 2, Duration::from_secs(5)).await?;
    ctx.counter("failed", 4, Duration::from_secs(5)).await
}

/// A job out of attempts, and one failing permanently, land in the dead
/// set with one error entry per failed attempt (attempt, time, kind, the
/// handler's message), counted `failed` and `dead`.
pub(crate) async fn bury_with_error_history(ctx: Ctx) -> Outcome {
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    let mut producer = ctx.producer().await?;
    let doomed = producer
        .enqueue(
            QUEUE,
            "conformance.fail",
            json!({"message": "the disk is on fire"}),
            Options {
                max_attempts: Some(3),
                backoff: Some(Backoff::FixedMs(100)),
                ..Options::default()
            },
        )
        .await?;
    let permanent = producer
        .enqueue(
            QUEUE,
            "conformance.permanent",
            json!({"message": "no such customer"}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    for (id, attempts, message) in [
        (&doomed, 3u32, "the disk is on fire"),
        (&permanent, 1, "no such customer"),
    ] {
        let job = eventually(Duration::from_secs(10), || async {
            ctx.probe()
                .job(QUEUE, id)
                .await?
                .filter(|job| job.state == JobState::Dead)
                .ok_or_else(|| Failure::new(format!("job {id} is not in the dead set")))
        })
        .await?;
        ensure_eq(&format!("attempts of dead job {id}"), job.attempt, attempts)?;
        ensure(job.errors.len() == attempts as usize, || {
            format!(
                "dead job {id} has {} error entries, expected {attempts} (one per failed attempt, \
                 with attempt, at, kind and the handler's message): the error history was not \
                 written — {:?}",
                job.errors.len(),
                job.errors
            )
        })?;
        for (index, entry) in job.errors.iter().enumerate() {
            ensure_eq("an error entry's attempt", entry.attempt, index as u32 + 1)?;
            let kind = serde_json::to_value(entry.kind).unwrap_or(Value::Null);
            ensure_eq("an error entry's kind", kind, json!("error"))?;
            ensure(entry.message.contains(message), || {
                format!(
                    "error entry message {:?} does not carry the handler's {message:?}",
                    entry.message
                )
            })?;
            ensure(entry.at > 0, || {
                format!("error entry without a time: {entry:?}")
            })?;
        }
    }
    ctx.counter("dead", 2, Duration::from_secs(5)).await?;
    ctx.counter("failed", 4, Duration::from_secs(5)).await?;
    ensure_eq(
        "processed counter",
        ctx.probe().counters(QUEUE).await?.get("processed"),
        0,
    )
}
