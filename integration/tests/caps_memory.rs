//! `jobqueue bench caps` (docs/benchmarks.md, "Memory at the caps") at a
//! small size with tiny caps: the same code path as the 1,000,000-job run,
//! asserting on what the run's keys hold rather than on `used_memory`
//! (the shared test Redis serves other tests meanwhile). One job in four
//! goes dead and keeps its log; a dead-set cap of 5 trims them, and their
//! logs must go with them.

// The run's future (a worker, a producer and the sampler in one) nests
// deeper than the default limit lets the compiler lay out.
#![recursion_limit = "256"]

use clap::Parser;
use jobqueue_cli::bench::{BenchArgs, CapsSample, run_caps};
use jobqueue_cli::cli::{Cli, Command};
use jobqueue_core::ClientConfig;
use jobqueue_integration::job_logs::test_redis_with_job_logs;

/// The dead-set cap of the run.
const DEAD_MAX: u64 = 5;

/// `jobqueue bench caps <flags>`, parsed as the binary parses it.
fn caps_args(flags: &[&str]) -> BenchArgs {
    let argv = ["jobqueue", "bench", "caps"].iter().chain(flags);
    match Cli::try_parse_from(argv).expect("caps flags parse").command {
        Command::Bench(args) => args,
        _ => unreachable!("a bench command"),
    }
}

fn logs(sample: &CapsSample) -> u64 {
    sample.held["logs"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_stay_bounded_by_the_dead_set_cap() {
    let env = test_redis_with_job_logs("caps-bench").await;
    let dead_max = DEAD_MAX.to_string();
    let args = caps_args(&[
        "--jobs",
        "2000",
        "--logs",
        "--fail-every",
        "4",
        "--dead-max",
        &dead_max,
    ]);
    let config = ClientConfig::new(env.url()).prefix(env.prefix());
    let report = run_caps(config, &args).await.expect("caps run");

    assert_eq!(report.samples.len(), 21, "one before, one per window");
    assert_eq!((report.processed, report.failed), (1500, 500));
    assert_eq!(report.dead_trimmed, 500 - DEAD_MAX);
    for sample in &report.samples[1..] {
        assert_eq!(
            sample.dead, DEAD_MAX,
            "the cap is reached in every window: {sample:?}"
        );
        assert_eq!(
            logs(sample),
            DEAD_MAX,
            "one log per dead job, none leaked: {sample:?}"
        );
    }
    // Nothing else grows either: the keys besides the logs stay the same
    // over the second half (give or take a stats bucket of a new minute).
    let others = |sample: &CapsSample| sample.keys - logs(sample);
    let middle = &report.samples[10];
    let last = &report.samples[20];
    assert!(
        others(last) <= others(middle) + 2,
        "keys grew: {middle:?} → {last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_and_the_history_stay_within_their_caps() {
    let env = test_redis_with_job_logs("caps-watch").await;
    let args = caps_args(&[
        "--jobs",
        "4000",
        "--events",
        "--events-cap",
        "100",
        "--history",
        "--history-cap",
        "300",
        "--fail-every",
        "10",
    ]);
    let config = ClientConfig::new(env.url()).prefix(env.prefix());
    let report = run_caps(config, &args).await.expect("caps run");
    assert_eq!((report.processed, report.failed), (3600, 400));
    // Approximate trimming drops whole stream nodes of 100 entries: a
    // stream may hold up to one node more than its cap, never more. The
    // event stream has one entry per script call (a window of 200 jobs
    // makes about 15), so it reaches its cap late in the run.
    for sample in &report.samples {
        assert!(sample.held["events"] <= 200, "events: {sample:?}");
    }
    assert!(report.samples[20].held["events"] >= 100);
    for sample in &report.samples[5..] {
        assert!(
            (300..=400).contains(&sample.held["history"]),
            "history: {sample:?}"
        );
    }
}
