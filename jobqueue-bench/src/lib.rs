//! The benchmark workloads of `../shared/BENCH.md`, run as `jobqueue bench`.

use clap::Args;
use jobqueue_core::ClientConfig;

/// Options of `jobqueue bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The workload: w1, w2_single, w2_bulk, w3, w4 or w5.
    pub workload: String,
}

/// Runs a workload and prints its JSON line on stdout.
pub async fn run(_config: ClientConfig, args: &BenchArgs) -> Result<(), String> {
    Err(format!("workload {} is not implemented yet", args.workload))
}
