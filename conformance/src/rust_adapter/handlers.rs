//! The conformance handlers of ADAPTER.md as Rust job types: each one's
//! payload is any JSON value (`#[serde(transparent)]`), so the suite's
//! payloads reach them as the other implementations see them.

use std::time::Duration;

use jobqueue::{JobContext, JobError, StatefulJob};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the handlers share: their own Redis connection (for `record`) and
/// the language tag they write.
pub struct HandlerState {
    /// A connection of the handlers' own, not the worker's.
    pub redis: redis::aio::MultiplexedConnection,
    /// The tag written in `record` entries (`rust` unless `--language-tag`).
    pub language: String,
}

/// Exit code of `conformance.crash` (ADAPTER.md).
pub const CRASH_EXIT_CODE: i32 = 3;

/// `conformance.echo`: returns the payload as the job's result.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Echo(pub Value);

/// `conformance.record`: appends a run entry to the list `payload.key`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record(pub Value);

/// `conformance.fail`: fails (retryably) until `payload.succeed_on_attempt`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fail(pub Value);

/// `conformance.permanent`: fails with a permanent error.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permanent(pub Value);

/// `conformance.sleep`: records (with `payload.key`), then sleeps `payload.ms`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sleep(pub Value);

/// `conformance.crash`: records (with `payload.key`), then ends the process at once.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Crash(pub Value);

/// `payload.message`, or a fixed text when it is absent.
fn message(payload: &Value) -> String {
    payload
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("conformance failure")
        .to_owned()
}

/// RPUSHes the run entry of ADAPTER.md to `payload.key`, when it names one.
async fn record_run(payload: &Value, ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
    let Some(key) = payload.get("key").and_then(Value::as_str) else {
        return Ok(());
    };
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    let entry = json!({
        "id": ctx.id().to_string(),
        "attempt": ctx.attempt(),
        "language": ctx.state().language,
        "at_ms": at_ms,
    });
    let mut redis = ctx.state().redis.clone();
    let _: i64 = redis.rpush(key, entry.to_string()).await?;
    Ok(())
}

impl StatefulJob for Echo {
    type State = HandlerState;
    const NAME: &'static str = "conformance.echo";

    async fn perform(&self, ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
        ctx.set_result(&self.0)?;
        Ok(())
    }
}

impl StatefulJob for Record {
    type State = HandlerState;
    const NAME: &'static str = "conformance.record";

    async fn perform(&self, ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
        record_run(&self.0, ctx).await
    }
}

impl StatefulJob for Fail {
    type State = HandlerState;
    const NAME: &'static str = "conformance.fail";

    async fn perform(&self, ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
        let succeeds = self
            .0
            .get("succeed_on_attempt")
            .and_then(Value::as_u64)
            .is_some_and(|on| u64::from(ctx.attempt()) >= on);
        if !succeeds {
            return Err(JobError::retry(message(&self.0)));
        }
        ctx.set_result(&json!({ "attempt": ctx.attempt() }))?;
        Ok(())
    }
}

impl StatefulJob for Permanent {
    type State = HandlerState;
    const NAME: &'static str = "conformance.permanent";

    async fn perform(&self, _ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
        Err(JobError::permanent(message(&self.0)))
    }
}

impl StatefulJob for Sleep {
    type State = HandlerState;
    const NAME: &'static str = "conformance.sleep";

    async fn perform(&self, ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
        record_run(&self.0, ctx).await?;
        let ms = self.0.get("ms").and_then(Value::as_u64).unwrap_or(0);
        // Cancellable as every Rust job is: an operator's cancel, a timeout
        // or the end of the shutdown grace drops this future at the await.
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ctx.set_result(&json!({ "slept": ms }))?;
        Ok(())
    }
}

impl StatefulJob for Crash {
    type State = HandlerState;
    const NAME: &'static str = "conformance.crash";

    async fn perform(&self, ctx: &JobContext<HandlerState>) -> Result<(), JobError> {
        record_run(&self.0, ctx).await?;
        tracing::warn!(job = %ctx.id(), "conformance.crash: ending the process now");
        std::process::exit(CRASH_EXIT_CODE);
    }
}
