//! The options of `jobqueue bench`.

use clap::{Args, ValueEnum};

/// Options of `jobqueue bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The workload: w1, w2_single, w2_bulk, w3, w4, w5, limits or caps.
    pub workload: String,

    /// Number of jobs (default per workload: w1 50000, w2 20000, w3 5000,
    /// w4 500, w5 50000, caps 1000000).
    #[arg(long)]
    pub jobs: Option<u64>,

    /// Worker concurrency for w1, w3 and w4 (default 20).
    #[arg(long, default_value_t = 20)]
    pub concurrency: usize,

    /// Enqueue rate for w3, jobs per second (default 500).
    #[arg(long, default_value_t = 500)]
    pub rate: u64,

    /// Batch size for w2_bulk, and for w1's bulk pre-enqueue (default 1000).
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,

    /// w1 variant: spread the jobs over this many queues (default 1).
    #[arg(long, default_value_t = 1)]
    pub queues: usize,

    /// w1 variant: every job fails once and succeeds on its retry.
    #[arg(long)]
    pub fail_once: bool,

    /// w1 variant: give the queue(s) flow limits that never bind (fetched
    /// by fetch_limited.lua): `running`, `rate`, or `both` (the default
    /// when the flag has no value).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "both")]
    pub limits: Option<NeverBindingLimits>,

    /// w1 variant: every job is unique (default key, one hour).
    #[arg(long)]
    pub unique: bool,

    /// w1 variant: every job runs this many no-op memoised steps
    /// (`JobContext::step_n`), so it is a durable job (default 0: plain).
    #[arg(long, default_value_t = 0)]
    pub steps: u32,

    /// w1 variant: every job has a flow key, `tenant:<i mod N>`, over N
    /// keys whose class has no limits (default 0: plain jobs), so the
    /// worker serves them round-robin through `fetch_limited.lua`.
    #[arg(long, default_value_t = 0)]
    pub flow_keys: u32,

    /// w1 variant with `--flow-keys`: every other key weighs 3
    /// (`Admin::set_flow_weight`), so the fetch serves deficit round-robin.
    #[arg(long)]
    pub weights: bool,

    /// w1 variant: every job carries this many tags (`t<k>:<i mod 1000>`),
    /// so it is enqueued by a script that indexes them (default 0: none).
    #[arg(long, default_value_t = 0)]
    pub tags: u32,

    /// w1 variant: the worker keeps per-job logs (`WorkerBuilder::job_logs`,
    /// `JobLogLayer` installed); each job logs one line (plain w1 filters
    /// that line out), so each attempt stores a one-line log. `caps`: logs
    /// are one of the capped features sampled.
    #[arg(long)]
    pub logs: bool,

    /// Worker variant: idle workers wait for the producer's published
    /// wake-up alone, not on the ready list (`WorkerBuilder::watch_ready`
    /// off); to measure what the watch saves in w3.
    #[arg(long)]
    pub no_watch_ready: bool,

    /// w1 variant: the queues' live event streams are on (cap 10,000
    /// entries): every fetch and acknowledgement also appends an entry.
    #[arg(long)]
    pub events: bool,

    /// w1 variant: the queues' histories of finished jobs are on (cap
    /// 100,000 entries): every job ended also appends a history entry.
    #[arg(long)]
    pub history: bool,

    /// `w1` and `caps` workloads: the event stream's cap with `--events`.
    #[arg(long, default_value_t = jobqueue_core::store::commands::observe::DEFAULT_EVENT_STREAM_CAP)]
    pub events_cap: u64,

    /// `caps` workload: the history's cap with `--history`, entries.
    #[arg(long, default_value_t = jobqueue_core::store::commands::observe::DEFAULT_HISTORY_CAP)]
    pub history_cap: u64,
    /// `caps` workload: one job in this many fails for good and goes dead,
    /// keeping its log (default 10; 0: none fails).
    #[arg(long, default_value_t = 10)]
    pub fail_every: u64,

    /// `caps` workload: the worker's dead-set cap, jobs per queue (default
    /// 1000, small so the cap is reached early).
    #[arg(long, default_value_t = 1000)]
    pub dead_max: u64,

    /// w2_single variant: every enqueue carries its own idempotency key
    /// (one hour window).
    #[arg(long)]
    pub idempotent: bool,

    /// w1 variant: every job belongs to one batch of N (added in chunks of
    /// `--batch`, then sealed), so each ending is counted in the batch.
    #[arg(long)]
    pub in_batch: bool,

    /// `limits` workload: which flow limit binds — `running` (a running
    /// limit of 5, jobs of 50 ms), `keys` (10 serialized flow keys, jobs of
    /// 50 ms), `strict` (a sliding-window rate limit of 50/s, no-op jobs)
    /// or `bucket` (the token bucket, 50/s, for comparison).
    #[arg(long, value_enum, default_value = "running")]
    pub flow: FlowBench,

    /// `limits` workload: worker processes sharing the queue (default 3).
    #[arg(long, default_value_t = 3)]
    pub processes: usize,

    /// Producers and workers compress payloads above 1 KiB with zstd
    /// (`PayloadCodec::compress`; w1, w2, w5 and the worker child).
    #[arg(long)]
    pub compress: bool,

    /// Producers and workers encrypt every payload (XChaCha20-Poly1305,
    /// under a fixed benchmark key that is not a secret).
    #[arg(long)]
    pub encrypt: bool,

    /// w2_bulk and w5: the payload grows to about this many bytes of
    /// realistic JSON (a list of order items) instead of the ~100-byte one.
    #[arg(long)]
    pub payload_bytes: Option<usize>,

    /// Internal: the worker process's role (set by the parent).
    #[arg(long, hide = true)]
    pub role: Option<String>,
}

/// Which limit `jobqueue bench limits` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowBench {
    /// A queue running limit of 5; slot utilisation.
    Running,
    /// Per-key serialization, 10 keys; slot utilisation.
    Keys,
    /// A strict (sliding-window) rate limit of 50/s; busiest window, rate.
    Strict,
    /// A token-bucket rate limit of 50/s; busiest window, rate.
    Bucket,
}

impl FlowBench {
    /// The name printed in the JSON line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Keys => "keys",
            Self::Strict => "strict",
            Self::Bucket => "bucket",
        }
    }
}

/// Which never-binding flow limits `w1 --limits` switches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NeverBindingLimits {
    /// A running (concurrency) limit far above the worker's concurrency.
    Running,
    /// A rate limit far above what the worker reaches.
    Rate,
    /// Both.
    Both,
}

impl NeverBindingLimits {
    /// The name printed in the JSON line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Rate => "rate",
            Self::Both => "both",
        }
    }
}
