//! Poison input on the worker's side: records no producer would write,
//! pushed by the driver. Each is dead-lettered with a readable error of
//! its kind; the worker keeps running and nothing is lost.

use std::collections::BTreeMap;
use std::time::Duration;

use jobqueue::JobSet;
use serde_json::{Value, json};

use crate::failure::{Outcome, ensure, ensure_eq, eventually};
use crate::process::WorkerSpec;
use crate::protocol::Options;
use crate::scenario::{Ctx, QUEUE};

pub(crate) async fn dead_lettered_with_reason(ctx: Ctx) -> Outcome {
    let key = ctx.runs_key("runs");
    let id = || uuid::Uuid::now_v7().to_string();
    let unknown = id();
    let not_json = id();
    let poison: Vec<(String, &str)> = vec![
        (
            format!(r#"{{"id":"{unknown}","type":"conformance.no_such_type"}}"#) + "\n{}",
            "unknown_type",
        ),
        (
            format!(r#"{{"id":"{not_json}","type":"conformance.echo"}}"#) + "\n{not json",
            "payload",
        ),
        (
            "this is no record at all, just forty-odd bytes of text".to_owned(),
            "malformed",
        ),
        (
            format!(r#"{{"id":"{}","type":"#, id()) + "\n{}",
            "malformed",
        ),
    ];
    let _worker = ctx.worker(&WorkerSpec::on(QUEUE, 2)).await?;
    for (record, _) in &poison {
        ctx.probe().push_raw(QUEUE, record.as_bytes()).await?;
    }
    // A good job after the poison still runs: the worker kept going.
    let mut producer = ctx.producer().await?;
    producer
        .enqueue(
            QUEUE,
            "conformance.record",
            json!({"key": key}),
            Options::default(),
        )
        .await?;
    producer.finish().await?;
    ctx.runs(&key, 1, Duration::from_secs(10)).await?;
    let dead = eventually(Duration::from_secs(10), || async {
        let dead = ctx
            .probe()
            .admin()
            .list(QUEUE, JobSet::Dead, 0, 100)
            .await?;
        ensure(dead.len() == poison.len(), || {
            format!(
                "{} of {} poison records are in the dead set",
                dead.len(),
                poison.len()
            )
        })?;
        Ok(dead)
    })
    .await?;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for job in &dead {
        let last = job.errors.last();
        let kind = last
            .map(|entry| serde_json::to_value(entry.kind).unwrap_or(Value::Null))
            .and_then(|kind| kind.as_str().map(str::to_owned))
            .unwrap_or_else(|| "no error entry".into());
        ensure(last.is_some_and(|entry| !entry.message.is_empty()), || {
            format!(
                "dead poison job {} has no readable error: {:?}",
                job.id, job.errors
            )
        })?;
        *kinds.entry(kind).or_default() += 1;
    }
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for (_, kind) in &poison {
        *expected.entry((*kind).to_owned()).or_default() += 1;
    }
    ensure_eq(
        "the error kinds of the dead poison records",
        kinds,
        expected,
    )?;
    for id in [&unknown, &not_json] {
        let job = ctx.probe().job(QUEUE, id).await?;
        ensure(job.is_some(), || {
            format!("poison job {id} was not kept under its own id in the dead set")
        })?;
    }
    ctx.counter("dead", poison.len() as i64, Duration::from_secs(3))
        .await?;
    ctx.counter("processed", 1, Duration::from_secs(3)).await
}
