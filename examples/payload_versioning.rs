//! Payload versioning: a job type whose payload changed twice keeps running
//! the jobs enqueued before each change.
//!
//! Run it (Redis 7+ at `JOBQUEUE_REDIS_URL`, default `redis://127.0.0.1:6379`):
//!
//! ```text
//! cargo run -p jobqueue-examples --example payload_versioning
//! ```
//!
//! `send_invoice` went through three shapes:
//!
//! | version | payload |
//! | --- | --- |
//! | 0 | `{"customer": "Ada Lovelace", "amount_cents": 1250}` |
//! | 1 | `customer` renamed to `customer_name` |
//! | 2 | `customer_name` split into `first_name` + `last_name`; `currency` added (default `"EUR"`) |
//!
//! Jobs of versions 0 and 1 may still wait in Redis when version 2 is
//! deployed (scheduled for next week, waiting for a retry, or just queued).
//! The job type declares `VERSION = 2` and an `upcast` that rewrites old
//! payloads step by step, so the worker decodes every one of them into the
//! current struct. The program enqueues one job of each version — the old
//! ones as raw JSON, as the old producers wrote them — and runs them.
//! See docs/payload-versioning.md for the rules.

use std::sync::OnceLock;
use std::time::Duration;

use jobqueue::wire::record::{Envelope, encode_record};
use jobqueue::{Client, ClientConfig, Job, JobContext, JobError};
use jobqueue::{Worker, WorkerBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Jobs reach Redis through this static: jobqueue does not inject
/// application state into jobs yet.
static JOB_CLIENT: OnceLock<Client> = OnceLock::new();

/// Version 2 of the invoice job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendInvoice {
    pub first_name: String,
    pub last_name: String,
    pub amount_cents: u64,
    /// Added in version 2; `#[serde(default)]` would also cover a missing
    /// field, but the upcast writes it so the rule lives in one place.
    pub currency: String,
}

impl Job for SendInvoice {
    const NAME: &'static str = "send_invoice";
    const VERSION: u32 = 2;

    /// Each step moves a payload one version forward; an old payload
    /// passes through every later step.
    fn upcast(from_version: u32, mut payload: Value) -> Value {
        if from_version < 1 {
            // v0 → v1: `customer` was renamed `customer_name`.
            if let Some(name) = payload.get_mut("customer").map(Value::take) {
                payload["customer_name"] = name;
            }
            if let Some(object) = payload.as_object_mut() {
                object.remove("customer");
            }
        }
        if from_version < 2 {
            // v1 → v2: split the name; add the currency.
            let full = payload["customer_name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let (first, last) = full.split_once(' ').unwrap_or((full.as_str(), ""));
            payload["first_name"] = first.into();
            payload["last_name"] = last.into();
            payload["currency"] = "EUR".into();
            if let Some(object) = payload.as_object_mut() {
                object.remove("customer_name");
            }
        }
        payload
    }

    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        tracing::info!(
            "invoice for {} {}: {}.{:02} {}",
            self.first_name,
            self.last_name,
            self.amount_cents / 100,
            self.amount_cents % 100,
            self.currency
        );
        // Record what was decoded, so the example (and its test) can show it.
        let client = JOB_CLIENT
            .get()
            .ok_or_else(|| JobError::retry("the job client is not set up"))?;
        let decoded = serde_json::to_string(self).map_err(JobError::permanent)?;
        redis::cmd("RPUSH")
            .arg(sent_key(client))
            .arg(decoded)
            .query_async::<()>(&mut client.store().connection())
            .await?;
        Ok(())
    }
}

/// Makes `client` the one jobs use. Call once per process.
pub fn set_job_client(client: &Client) {
    let _ = JOB_CLIENT.set(client.clone());
}

/// The list the job appends every invoice it sent to (app data).
pub fn sent_key(client: &Client) -> String {
    format!("{}:example:invoices_sent", client.config().prefix_str())
}

/// Enqueues a raw payload as a producer of `version` wrote it.
pub async fn enqueue_raw(
    client: &Client,
    version: u32,
    payload: &str,
) -> Result<uuid::Uuid, jobqueue::Error> {
    let mut envelope = Envelope::new(SendInvoice::NAME);
    envelope.version = version;
    let record = encode_record(&envelope, payload.as_bytes())?;
    let queue = client.store().queue_keys(SendInvoice::QUEUE)?;
    client.store().register_queues([SendInvoice::QUEUE]).await?;
    client.store().enqueue_ready(&queue, &record).await?;
    Ok(envelope.id)
}

/// One job of each version: v0 and v1 as raw JSON, v2 from the struct.
pub async fn enqueue_all_versions(client: &Client) -> Result<(), jobqueue::Error> {
    enqueue_raw(
        client,
        0,
        r#"{"customer":"Ada Lovelace","amount_cents":1250}"#,
    )
    .await?;
    enqueue_raw(
        client,
        1,
        r#"{"customer_name":"Grace Hopper","amount_cents":900}"#,
    )
    .await?;
    client
        .enqueue(SendInvoice {
            first_name: "Alan".into(),
            last_name: "Turing".into(),
            amount_cents: 4200,
            currency: "GBP".into(),
        })
        .await?;
    Ok(())
}

/// The worker of this example.
pub fn worker(client: Client) -> WorkerBuilder {
    Worker::builder(client).register::<SendInvoice>()
}

/// Every invoice sent so far, as decoded by the worker.
pub async fn sent(client: &Client) -> Result<Vec<SendInvoice>, Box<dyn std::error::Error>> {
    let sent: Vec<String> = redis::cmd("LRANGE")
        .arg(sent_key(client))
        .arg(0)
        .arg(-1)
        .query_async(&mut client.store().connection())
        .await?;
    Ok(sent
        .iter()
        .map(|json| serde_json::from_str(json))
        .collect::<Result<_, _>>()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let client = Client::with_config(ClientConfig::from_env()).await?;
    set_job_client(&client);
    redis::cmd("DEL")
        .arg(sent_key(&client))
        .query_async::<()>(&mut client.store().connection())
        .await?;
    enqueue_all_versions(&client).await?;

    let worker = worker(client.clone()).start().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sent(&client).await?.len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown().await;
    for invoice in sent(&client).await? {
        println!("decoded as version 2: {invoice:?}");
    }
    Ok(())
}
