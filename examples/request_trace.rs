//! A web request's trace continued by the job it enqueues.
//!
//! The "request" span stands for your HTTP handler's span. With the
//! `opentelemetry` feature of jobqueue-worker, the enqueue takes the current
//! span's OpenTelemetry context into the job envelope (`traceparent`), and
//! the worker runs the job in a span that is the request span's (remote)
//! child — one trace from request to job, even when the worker runs on
//! another machine. Here the spans go to an in-memory exporter and are
//! printed; in production, install your OTLP exporter instead.
//!
//! Run: `JOBQUEUE_REDIS_URL=redis://127.0.0.1:6379 cargo run -p jobqueue-examples --example request_trace`

use std::time::Duration;

use jobqueue::Worker;
use jobqueue::{Client, ClientConfig, Job, JobContext, JobError};
use opentelemetry::trace::TracerProvider;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Serialize, Deserialize)]
struct SendReceipt {
    order_id: u64,
}

impl Job for SendReceipt {
    const NAME: &'static str = "send_receipt";

    async fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        // Pass this on to outgoing calls so they join the trace too.
        tracing::info!(
            order = self.order_id,
            traceparent = ctx.traceparent().unwrap_or("-"),
            "sending receipt"
        );
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("request_trace"))),
    )?;

    let config = ClientConfig::from_env().prefix("jqtrace");
    let client = Client::with_config(config).await?;
    // The web request: enqueue inside its span.
    client
        .enqueue(SendReceipt { order_id: 42 })
        .instrument(tracing::info_span!("request", http.route = "/orders"))
        .await?;

    let worker = Worker::builder(client.clone())
        .register::<SendReceipt>()
        .start()
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    worker.shutdown().await;
    provider.force_flush()?;

    for span in exporter.get_finished_spans()? {
        if span.name == "request" || span.name == "job" {
            println!(
                "{:<8} trace {} span {} parent {}",
                span.name,
                span.span_context.trace_id(),
                span.span_context.span_id(),
                span.parent_span_id
            );
        }
    }
    println!("the job span's parent is the request span: one trace from request to job");
    Ok(())
}
