//! With the `opentelemetry` feature, a job enqueued inside a request's span
//! runs in a span that is the request span's child in OpenTelemetry: one
//! trace from the request to the job, across processes in real life (here
//! through Redis within one process, with an in-memory exporter).
//!
//! One test: it installs the process-wide subscriber.

use std::time::Duration;

use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use opentelemetry::trace::{SpanKind, TracerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_continues_the_trace_of_the_request_that_enqueued_it() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("jobqueue-test")));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let env = test_redis("otel").await;
    let id = env
        .client()
        .enqueue(env.test_job())
        .instrument(tracing::info_span!("request"))
        .await
        .unwrap();
    let ready = env
        .client()
        .admin()
        .list_ready("default", 0, 1)
        .await
        .unwrap();
    assert_eq!(ready[0].id, id);

    let worker = test_worker(&env).start().await.unwrap();
    assert!(env.wait_done(1, Duration::from_secs(10)).await);
    worker.shutdown().await;
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let request = spans
        .iter()
        .find(|s| s.name == "request")
        .expect("request span exported");
    let job = spans
        .iter()
        .find(|s| s.name == "job")
        .expect("job span exported");
    assert_eq!(
        job.span_context.trace_id(),
        request.span_context.trace_id(),
        "the job is in the request's trace"
    );
    assert_eq!(
        job.parent_span_id,
        request.span_context.span_id(),
        "child of the request"
    );
    assert!(
        job.parent_span_is_remote,
        "the parent came through the envelope"
    );
    assert_eq!(request.span_kind, SpanKind::Internal);
}
