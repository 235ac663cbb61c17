//! A durable order pipeline: reserve stock, charge the card (with an
//! idempotency key the payment API deduplicates on), wait up to 3 days for
//! a "shipped" signal, send a receipt. Each step runs once even when the
//! worker is killed between steps (see docs/durable-jobs.md); the order is
//! enqueued under an idempotency key, so a client retrying its request
//! gets the same job.
//!
//! The "external services" (stock, payments, mail) are stand-ins that
//! count their calls in a Redis hash, so you can see what ran.
//!
//! Run with a Redis at hand:
//! `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example durable_order`
//! runs the whole story in one process; with the argument `worker` it only
//! runs a worker (the example's test starts that and kills it).

use std::time::Duration;

use jobqueue::{Client, ClientConfig, Job, JobContext, JobError, Signal, Worker};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// Key prefix of the example, so it never touches other data in your Redis.
pub const PREFIX: &str = "jqdurable";

/// Where the stand-in external services count their calls: the hash
/// `key`, field per call (`reserve_stock`, `charge_calls`, `send_receipt`)
/// and `charge:<idempotency key>` → the charge id the payment API made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Services {
    /// The Redis that stands in for them.
    pub redis_url: String,
    /// The hash they write.
    pub key: String,
}

impl Services {
    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, JobError> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        Ok(client.get_multiplexed_async_connection().await?)
    }

    /// Counts one call of `service`.
    async fn call(&self, service: &str) -> Result<u64, JobError> {
        let mut conn = self.connection().await?;
        Ok(conn.hincr(&self.key, service, 1).await?)
    }

    /// The payment API: charges once per idempotency key, whatever the
    /// number of calls (as Stripe's `Idempotency-Key` header does).
    async fn charge(&self, idempotency_key: &str, cents: u64) -> Result<String, JobError> {
        let mut conn = self.connection().await?;
        let () = conn.hincr(&self.key, "charge_calls", 1).await?;
        let field = format!("charge:{idempotency_key}");
        let charge_id = format!("ch_{cents}_{}", fastrand::u32(..));
        let _: bool = conn.hset_nx(&self.key, &field, &charge_id).await?;
        Ok(conn.hget(&self.key, &field).await?)
    }

    /// How many times `field` was called.
    pub async fn count(&self, field: &str) -> Result<u64, redis::RedisError> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let count: Option<u64> = conn.hget(&self.key, field).await?;
        Ok(count.unwrap_or(0))
    }
}

/// What the warehouse sends when the parcel left.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shipped {
    /// The carrier's tracking number.
    pub tracking: String,
}

/// Fulfils one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FulfilOrder {
    /// The order.
    pub order_id: u64,
    /// What to charge.
    pub amount_cents: u64,
    /// The stand-in services.
    pub services: Services,
    /// Work between reserving and charging (packing), in ms.
    pub packing_ms: u64,
}

impl Job for FulfilOrder {
    const NAME: &'static str = "fulfil_order";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        let services = &self.services;
        ctx.step("reserve_stock", || services.call("reserve_stock"))
            .await?;
        // Outside a step: runs again on every run, so nothing here has an
        // effect (the example's test kills the worker during this pause).
        tokio::time::sleep(Duration::from_millis(self.packing_ms)).await;
        let key = ctx.step_key("charge");
        let charge_id: String = ctx
            .step("charge", || services.charge(&key, self.amount_cents))
            .await?;
        let three_days = Duration::from_secs(3 * 24 * 3600);
        let tracking = match ctx
            .wait_for_signal::<Shipped>("shipped", three_days)
            .await?
        {
            Signal::Received(shipped) => shipped.tracking,
            Signal::TimedOut => "not shipped within 3 days".to_owned(),
        };
        ctx.step("receipt", || services.call("send_receipt"))
            .await?;
        tracing::info!(order = self.order_id, %charge_id, %tracking, "order fulfilled");
        Ok(())
    }
}

/// Enqueues the order once per `request_id` (for 24 hours): a client
/// retrying its request gets the same job.
pub async fn enqueue(
    client: &Client,
    order: FulfilOrder,
    request_id: &str,
) -> Result<uuid::Uuid, jobqueue::Error> {
    client
        .job(order)
        .idempotency_key(request_id, Duration::from_secs(24 * 3600))
        .enqueue()
        .await
}

/// A worker for the example's job, with a short lease so that the jobs of
/// a killed worker come back within seconds.
pub fn worker(client: Client) -> jobqueue::WorkerBuilder {
    Worker::builder(client)
        .register::<FulfilOrder>()
        .lease(Duration::from_secs(2))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let url =
        std::env::var("JOBQUEUE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = std::env::var("JOBQUEUE_PREFIX").unwrap_or_else(|_| PREFIX.to_owned());
    let client = Client::with_config(ClientConfig::new(&url).prefix(&prefix)).await?;
    if std::env::args().nth(1).as_deref() == Some("worker") {
        let running = worker(client).start().await?;
        println!("READY {}", running.worker_id());
        jobqueue::shutdown_signal().await;
        running.shutdown().await;
        return Ok(());
    }
    let services = Services {
        redis_url: url.clone(),
        key: format!("{prefix}:services"),
    };
    let order = FulfilOrder {
        order_id: 1001,
        amount_cents: 4999,
        services: services.clone(),
        packing_ms: 200,
    };
    let id = enqueue(&client, order.clone(), "checkout-1001").await?;
    let again = enqueue(&client, order, "checkout-1001").await?;
    tracing::info!(%id, same = (id == again), "order enqueued (twice: one job)");
    let running = worker(client.clone()).start().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let shipped = Shipped {
        tracking: "1Z999AA10123456784".into(),
    };
    let woke = client.signal("default", id, "shipped", &shipped).await?;
    tracing::info!(?woke, "warehouse: shipped");
    while services.count("send_receipt").await? == 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.shutdown().await;
    for field in ["reserve_stock", "charge_calls", "send_receipt"] {
        println!("{field}: {}", services.count(field).await?);
    }
    Ok(())
}
