//! In-process hot paths, measured without Redis noise: encoding a job,
//! decoding what a worker needs to run it, packing a completion batch and
//! reading a fetch reply.
//!
//! Run: `cargo bench -p jobqueue-core --bench hot_paths`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jobqueue_core::store::keys::Keys;
use jobqueue_core::store::{CompletionBatch, CompletionCalls, DeadLimits, parse_fetch_reply};
use jobqueue_core::wire::record::{Envelope, decode_head, decode_record, encode_job_record};
use serde::Serialize;

/// The BENCH.md payload.
#[derive(Serialize)]
struct Payload {
    user_id: u64,
    email: String,
    action: &'static str,
    pad: &'static str,
}

fn payload(i: u64) -> Payload {
    Payload {
        user_id: i,
        email: format!("user{i}@example.com"),
        action: "welcome",
        pad: "xxxxxxxxxxxxxxxxxxxxxxxx",
    }
}

fn record(i: u64) -> Vec<u8> {
    encode_job_record(&Envelope::new("bench"), &payload(i))
        .map(|(record, _)| record)
        .unwrap_or_default()
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    let job = payload(12345);
    group.bench_function("encode (new id + envelope + payload)", |b| {
        b.iter(|| encode_job_record(&Envelope::new("bench"), black_box(&job)))
    });
    let stored = record(12345);
    group.bench_function("decode_head (what a run needs)", |b| {
        b.iter(|| decode_head(black_box(&stored)).map(|(head, _)| head.attempt))
    });
    group.bench_function("decode_record (full envelope)", |b| {
        b.iter(|| decode_record(black_box(&stored)).map(|(env, _)| env.attempt))
    });
    group.finish();
}

fn batching(c: &mut Criterion) {
    let keys = Keys::new("jq").unwrap_or_else(|e| panic!("{e}"));
    let queue = keys.queue("default").unwrap_or_else(|e| panic!("{e}"));
    let active = queue.active("host-1-abcdef12");
    let mut group = c.benchmark_group("batch of 100");
    group.throughput(Throughput::Elements(100));
    let records: Vec<Vec<u8>> = (0..100).map(record).collect();
    group.bench_function("parse fetch reply", |b| {
        b.iter(|| {
            let mut items = vec![redis::Value::Int(0)];
            items.extend(records.iter().cloned().map(redis::Value::BulkString));
            parse_fetch_reply(redis::Value::Array(items)).map(|reply| reply.records.len())
        })
    });
    let batch = CompletionBatch {
        acks: records.iter().map(|r| r[7..43].to_vec()).collect(),
        ..CompletionBatch::default()
    };
    group.bench_function("pack acks", |b| {
        b.iter(|| {
            CompletionCalls::pack(&queue, &active, black_box(&batch), DeadLimits::default()).len()
        })
    });
    group.finish();
}

criterion_group!(benches, codec, batching);
criterion_main!(benches);
