//! The benchmark workloads of BENCH.md, run as `jobqueue bench <workload>`.
//!
//! | workload | measures |
//! | --- | --- |
//! | `w1` | drain: N pre-enqueued no-op jobs, one worker process with concurrency C |
//! | `w2_single` | N single enqueues, each awaited |
//! | `w2_bulk` | N jobs enqueued in batches |
//! | `w3` | enqueue → start latency at a fixed rate, worker warmed up |
//! | `w4` | lateness of delayed jobs (start − due; negative would be early) |
//! | `w5` | Redis memory per waiting job |
//! | `limits` | how close limited queues run to their limits, several worker processes |
//! | `caps` | Redis memory over a long run with capped features on (logs), flat once the caps are reached |
//!
//! Each run prints exactly one JSON line on stdout; progress goes to
//! stderr. Every run works under its own fresh key prefix (derived from
//! `--prefix`) and deletes its keys afterwards, so it can be pointed at a
//! Redis that holds other data. The worker for w1, w3 and w4 is a separate
//! process (this same binary, `jobqueue bench worker …`), so its boot time
//! is excluded from the figures and reported.
//!
//! `workloads/` holds one file per workload; `child.rs` the worker process
//! and how the parent drives it; `job.rs` the job both run; `produce.rs`
//! how the workloads enqueue; `report.rs` what a run prints.

mod args;
mod child;
mod clock;
mod job;
mod keyspace;
mod measurements;
mod produce;
mod report;
mod workloads;

use jobqueue_core::{ClientConfig, Keyring, PayloadCodec};

pub use args::{BenchArgs, FlowBench, NeverBindingLimits};
pub use workloads::caps::{
    CappedFeature, CapsReport, CapsSample, FLAT_BYTES_PER_JOB, FLAT_FLOOR_BYTES, run_caps,
};

/// Runs a workload (or the worker child) and prints its JSON line on stdout.
pub(crate) async fn run(config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    let config = config.payload_codec(payload_codec(args)?);
    match args.workload.as_str() {
        "worker" => child::run(config, args).await,
        "w1" => workloads::drain::run(config, args).await,
        "w2_single" => workloads::enqueue::run_single(config, args).await,
        "w2_bulk" => workloads::enqueue::run_bulk(config, args).await,
        "w3" => workloads::latency::run(config, args).await,
        "w4" => workloads::delayed::run(config, args).await,
        "w5" => workloads::memory::run(config, args).await,
        "limits" => workloads::limits::run(config, args).await,
        "caps" => workloads::caps::run(config, args).await,
        other => Err(format!(
            "unknown workload {other:?}; choose w1, w2_single, w2_bulk, w3, w4, w5, limits or caps"
        )),
    }
}

/// The key `--encrypt` uses: fixed so the worker child reads what the
/// producer wrote; a benchmark key, not a secret.
const BENCH_PAYLOAD_KEY: &str = "bench:QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";

/// The payload codec `--compress` and `--encrypt` ask for (plain without).
fn payload_codec(args: &BenchArgs) -> Result<PayloadCodec, String> {
    let mut codec = PayloadCodec::plain();
    if args.compress {
        codec = codec.compress();
    }
    if args.encrypt {
        codec = codec.encrypt(Keyring::parse(BENCH_PAYLOAD_KEY).map_err(|e| e.to_string())?);
    }
    Ok(codec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_key_makes_a_keyring() {
        let keyring = Keyring::parse(BENCH_PAYLOAD_KEY).map(|k| k.active().id().to_owned());
        assert_eq!(keyring.ok().as_deref(), Some("bench"));
    }
}
