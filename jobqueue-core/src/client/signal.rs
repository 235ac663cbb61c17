//! Signals for durable jobs: [`Client::signal`] (and [`Admin::signal`],
//! behind the API and `jobqueue signal`) wakes a job parked in
//! [`crate::JobContext::wait_for_signal`], or leaves the signal for it to
//! take when it waits.

use serde::Serialize;
use uuid::Uuid;

use crate::admin::Admin;
use crate::client::Client;
use crate::error::Error;
use crate::job::steps::{MAX_STEP_NAME_BYTES, MAX_STEP_OUTPUT_BYTES, SIGNAL_TTL};

/// What a signal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SignalOutcome {
    /// The job was parked waiting for this signal: it is due now.
    Woken,
    /// The job is not waiting for it (yet): the signal is kept (7 days)
    /// and taken when the job waits for it.
    Stored,
}

impl Admin {
    /// Sends signal `name` with `payload` to job `id` of `queue`. The
    /// payload (JSON, at most 64 KiB) replaces an earlier signal of the
    /// same name the job has not taken yet.
    pub async fn signal<T: Serialize + ?Sized>(
        &self,
        queue: &str,
        id: Uuid,
        name: &str,
        payload: &T,
    ) -> Result<SignalOutcome, Error> {
        let json = serde_json::to_string(payload).map_err(|source| Error::Encode {
            op: "signal",
            job_type: format!("signal '{name}'"),
            source,
        })?;
        self.signal_json(queue, id, name, &json).await
    }

    /// [`Admin::signal`] with the payload already JSON (checked here).
    pub async fn signal_json(
        &self,
        queue: &str,
        id: Uuid,
        name: &str,
        json: &str,
    ) -> Result<SignalOutcome, Error> {
        if name.is_empty() || name.len() > MAX_STEP_NAME_BYTES {
            return Err(Error::invalid(
                "signal",
                format!("a signal name is 1 to {MAX_STEP_NAME_BYTES} bytes"),
            ));
        }
        if json.len() > MAX_STEP_OUTPUT_BYTES {
            return Err(Error::invalid(
                "signal",
                format!(
                    "the payload is {} bytes, above {MAX_STEP_OUTPUT_BYTES}",
                    json.len()
                ),
            ));
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(json).is_err() {
            return Err(Error::invalid("signal", "the payload is not JSON"));
        }
        let store = self.store();
        let keys = store.queue_keys(queue)?;
        let woken = store
            .signal_send(&keys, &id.to_string(), name, json, SIGNAL_TTL)
            .await?;
        Ok(if woken {
            SignalOutcome::Woken
        } else {
            SignalOutcome::Stored
        })
    }
}

impl Client {
    /// Sends signal `name` with `payload` to job `id` of `queue`; see
    /// [`Admin::signal`].
    ///
    /// ```no_run
    /// # async fn demo(client: jobqueue_core::Client, id: uuid::Uuid) -> Result<(), jobqueue_core::Error> {
    /// client.signal("orders", id, "shipped", &serde_json::json!({ "tracking": "1Z999" })).await?;
    /// # Ok(()) }
    /// ```
    pub async fn signal<T: Serialize + ?Sized>(
        &self,
        queue: &str,
        id: Uuid,
        name: &str,
        payload: &T,
    ) -> Result<SignalOutcome, Error> {
        self.admin().signal(queue, id, name, payload).await
    }
}
