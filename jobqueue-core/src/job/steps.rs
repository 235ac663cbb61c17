//! Durable execution inside one job: memoised steps
//! ([`JobContext::step`]), durable sleep ([`JobContext::sleep`]) and
//! signals ([`JobContext::wait_for_signal`]).
//!
//! A job that uses them has a memo in Redis, `P:{Q}:steps:<id>` (a hash in
//! its queue's slot), read once per run (one `HGETALL`, the first time the
//! run uses it) and written by `step_store.lua` and `signal_wait.lua`, which
//! write only while this worker still holds the job's lease: a worker whose
//! lease lapsed cannot overwrite the memo the next run reads. When a run
//! starts again (a retry, a reclaim after a crash, the end of a sleep), a
//! step found in the memo returns its stored output without running.
//!
//! The memo lives [`MEMO_TTL`] after its last write (a sleep or a wait adds
//! its length), and is deleted with the job when it succeeds
//! (`ack_steps.lua`). Jobs that never call these methods have no memo and
//! cost nothing: the run reads nothing and its success is a plain
//! `ack.lua`.
//!
//! **The one window that is not exactly-once:** a step's closure ran and
//! its effect happened, but the worker died (or lost its lease) before the
//! output was stored. The next run runs the closure again. Make such an
//! effect idempotent on the other side, with a key derived from
//! [`JobContext::id`] and the step name ([`JobContext::step_key`]), e.g.
//! the `Idempotency-Key` header of a payment API. See
//! `docs/durable-jobs.md`.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::status::RunStatus;
use crate::error::Error;
use crate::job::context::JobContext;
use crate::job::error::JobError;
use crate::job::memo::Lookup;
use crate::store::ops::signal_wait::{SignalWait, SignalWaitRequest};
use crate::store::ops::step_store::StepWrite;

/// Largest step output stored, in bytes of JSON. Larger outputs are
/// refused with [`Error::StepTooLarge`] (store a reference instead).
pub const MAX_STEP_OUTPUT_BYTES: usize = 64 * 1024;

/// Longest step, sleep or signal name, in bytes.
pub const MAX_STEP_NAME_BYTES: usize = 200;

/// How long a memo is kept after its last write (after the wake time of a
/// sleep, the deadline of a wait for a signal): it outlives any run,
/// retry backoff or dead-set stay a week long.
pub const MEMO_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a signal nobody waited for yet is kept.
pub const SIGNAL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a wait for a signal ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal<T> {
    /// The signal arrived with this payload.
    Received(T),
    /// The timeout passed first.
    TimedOut,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds from `now` to `until`, at least 1 (a positive snooze).
fn remaining(now: f64, until: f64) -> Duration {
    Duration::from_secs_f64(((until - now).max(1.0)) / 1000.0)
}

fn lease_lost(op: &'static str, id: uuid::Uuid) -> JobError {
    JobError::from(Error::LeaseLost { op, id })
}

impl<S> JobContext<S> {
    /// Runs `run` once for this job and stores its output under `name`;
    /// when the job runs again (retry, reclaim after a crash, the end of a
    /// sleep), returns the stored output without running it.
    ///
    /// A name may appear once per run (use [`JobContext::step_n`] in
    /// loops); the output's JSON is at most [`MAX_STEP_OUTPUT_BYTES`].
    /// Both mistakes fail the run for good (they are bugs, not bad luck).
    ///
    /// ```no_run
    /// # use jobqueue_core::{JobContext, JobError};
    /// # async fn charge(_key: &str) -> Result<String, JobError> { Ok("ch_1".into()) }
    /// # async fn perform(ctx: &JobContext) -> Result<(), JobError> {
    /// let key = ctx.step_key("charge");
    /// let charge_id: String = ctx.step("charge", || async move { charge(&key).await }).await?;
    /// # let _ = charge_id; Ok(()) }
    /// ```
    pub async fn step<T, F, Fut>(&self, name: &str, run: F) -> Result<T, JobError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, JobError>>,
    {
        if self.run_status().is_none() {
            return run().await;
        }
        let field = format!("step:{name}");
        if let Some(stored) = self.memo_lookup(name, &field).await? {
            let json = stored
                .split_once(' ')
                .map_or(stored.as_str(), |(_, json)| json);
            return serde_json::from_str(json).map_err(|err| {
                JobError::permanent(format!(
                    "step '{name}': its stored output no longer decodes ({err}); \
                     a deploy changed the step's output type (see docs/durable-jobs.md, versioning)"
                ))
            });
        }
        let output = run().await?;
        let json = serde_json::to_string(&output).map_err(|source| {
            JobError::permanent(Error::Encode {
                op: "step",
                job_type: self.job_type().to_owned(),
                source,
            })
        })?;
        if json.len() > MAX_STEP_OUTPUT_BYTES {
            return Err(JobError::permanent(Error::StepTooLarge {
                step: name.to_owned(),
                size: json.len(),
                limit: MAX_STEP_OUTPUT_BYTES,
            }));
        }
        let write = StepWrite::Step {
            name,
            output: &json,
        };
        self.store_in_memo("step", field, write).await?;
        Ok(output)
    }

    /// [`JobContext::step`] for the `index`-th pass of a loop: the step is
    /// named `<name>#<index>`.
    pub async fn step_n<T, F, Fut>(&self, name: &str, index: u64, run: F) -> Result<T, JobError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, JobError>>,
    {
        self.step(&format!("{name}#{index}"), run).await
    }

    /// A key for making a step's effect idempotent on the other side
    /// (a payment API's idempotency key): `<job id>:<step name>`, the same
    /// in every run of this job.
    pub fn step_key(&self, name: &str) -> String {
        format!("{}:{name}", self.id())
    }

    /// Sleeps durably: the first time, ends this run without spending an
    /// attempt (return the error with `?`) and frees the worker's slot; the
    /// job runs again once `duration` has passed on the Redis clock (never
    /// earlier), with its completed steps, and this call then returns
    /// `Ok(())`. Nothing is held in the worker's memory: a job can sleep
    /// for days. While it sleeps the job is in the retry set, and its memo
    /// holds the wake time (`sleep:<name>`), shown on its job page.
    pub async fn sleep(&self, name: &str, duration: Duration) -> Result<(), JobError> {
        let status = self.worker_run("durable sleep")?;
        let field = format!("sleep:{name}");
        if let Some(wake) = self.memo_lookup(name, &field).await? {
            let wake: f64 = wake.parse().unwrap_or(0.0);
            let now = status.memo().now_ms().await;
            if now >= wake {
                return Ok(());
            }
            return Err(sleeping(name, remaining(now, wake)));
        }
        let write = StepWrite::Sleep {
            name,
            duration_ms: millis(duration),
        };
        self.store_in_memo("sleep", field, write).await?;
        Err(sleeping(name, duration))
    }

    /// Waits for signal `name` ([`crate::Client::signal`], the API, `jobqueue
    /// signal`) up to `timeout` from the first wait. A signal sent earlier
    /// (even before the job started) is taken at once. Otherwise the run
    /// ends here without spending an attempt (return the error with `?`),
    /// the job parks with its slot freed, and it runs again when the signal
    /// arrives or the timeout passes; this call then returns
    /// [`Signal::Received`] or [`Signal::TimedOut`].
    pub async fn wait_for_signal<T: DeserializeOwned>(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<Signal<T>, JobError> {
        let status = self.worker_run("waiting for a signal")?;
        let field = format!("signal:{name}");
        let value = match self.memo_lookup(name, &field).await? {
            Some(value) => value,
            None => self.take_or_park(name, timeout).await?,
        };
        status.memo().remember(field, value.clone()).await;
        decode_signal(name, &value)
    }

    /// The signal if it came or the wait timed out; else the job parked and
    /// the run ends with a snooze (which `retry.lua` finds already filed).
    async fn take_or_park(&self, name: &str, timeout: Duration) -> Result<String, JobError> {
        let status = self.worker_run("waiting for a signal")?;
        let (store, queue, id) = status.memo_home();
        let id_text = id.to_string();
        let request = SignalWaitRequest {
            id: &id_text,
            worker_id: self.worker_id(),
            name,
            timeout,
            memo_ttl: MEMO_TTL,
        };
        match store.signal_wait(queue, request).await? {
            SignalWait::Done(value) => Ok(value),
            SignalWait::Lost => Err(lease_lost("wait_for_signal", id)),
            SignalWait::Parked(deadline) => {
                status.memo().mark_parked();
                let now = status.memo().now_ms().await;
                #[allow(clippy::cast_precision_loss)]
                let until = remaining(now, deadline as f64);
                Err(JobError::snooze_because(
                    until,
                    format!("waiting for signal '{name}'"),
                ))
            }
        }
    }

    /// This run's status, or a permanent error: `what` needs a worker's run
    /// (a context built without a store cannot sleep or wait).
    fn worker_run(&self, what: &str) -> Result<&RunStatus, JobError> {
        self.run_status()
            .ok_or_else(|| JobError::permanent(format!("{what} needs a worker's run")))
    }

    /// Writes `write` to the memo (`step_store.lua`, only while this
    /// worker holds the job) and remembers it as `field` for this run.
    async fn store_in_memo(
        &self,
        op: &'static str,
        field: String,
        write: StepWrite<'_>,
    ) -> Result<(), JobError> {
        let Some(status) = self.run_status() else {
            return Ok(());
        };
        let (store, queue, id) = status.memo_home();
        let ttl = millis(MEMO_TTL);
        let stored = store
            .step_store(queue, &id.to_string(), self.worker_id(), write, ttl)
            .await?
            .ok_or_else(|| lease_lost(op, id))?;
        status.memo().remember(field, stored.value).await;
        Ok(())
    }

    /// Checks `name` (not repeated in this run, not too long), loads the
    /// memo on first use, and returns `field`'s stored value.
    async fn memo_lookup(&self, name: &str, field: &str) -> Result<Option<String>, JobError> {
        if name.is_empty() || name.len() > MAX_STEP_NAME_BYTES {
            return Err(JobError::permanent(format!(
                "step name '{name}' must be 1 to {MAX_STEP_NAME_BYTES} bytes"
            )));
        }
        let Some(status) = self.run_status() else {
            return Ok(None);
        };
        let (store, queue, id) = status.memo_home();
        match status.memo().lookup(field, store, queue, id).await? {
            Lookup::Found(value) => Ok(Some(value)),
            Lookup::Missing => Ok(None),
            Lookup::Repeated => Err(JobError::permanent(format!(
                "'{field}' is used twice in one run: names are unique per job \
                 (use step_n in loops)"
            ))),
        }
    }
}

fn sleeping(name: &str, delay: Duration) -> JobError {
    JobError::snooze_because(
        delay,
        format!("sleeping '{name}' for {} ms", delay.as_millis()),
    )
}

fn decode_signal<T: DeserializeOwned>(name: &str, value: &str) -> Result<Signal<T>, JobError> {
    match value.strip_prefix("R ") {
        Some(json) => serde_json::from_str(json)
            .map(Signal::Received)
            .map_err(|err| {
                JobError::permanent(format!(
                    "signal '{name}': its payload does not decode as the type waited for: {err}"
                ))
            }),
        None => Ok(Signal::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_decode_received_and_timed_out() {
        assert_eq!(
            decode_signal::<u32>("a", "R 7").unwrap(),
            Signal::Received(7)
        );
        assert_eq!(decode_signal::<u32>("a", "T").unwrap(), Signal::TimedOut);
        assert!(decode_signal::<u32>("a", "R \"x\"").is_err());
    }

    #[test]
    fn remaining_is_never_zero() {
        assert_eq!(remaining(10.0, 5.0), Duration::from_millis(1));
        assert_eq!(remaining(0.0, 1500.0), Duration::from_millis(1500));
    }
}
