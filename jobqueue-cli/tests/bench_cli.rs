//! `jobqueue bench` runs every workload at tiny sizes against the test
//! Redis and prints exactly one JSON line with BENCH.md's fields. (Timings
//! are the benchmark's business, never a pass/fail test: only the shape
//! and the job accounting are checked here.)

use std::process::Command;

use serde_json::Value;

fn redis_url() -> String {
    std::env::var("JOBQUEUE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Runs `jobqueue bench <args>` and returns its one stdout line as JSON.
fn bench(args: &[&str]) -> Value {
    let prefix = format!("jqtest-bench-{}", uuid_like());
    let output = Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .arg("--redis-url")
        .arg(redis_url())
        .arg("--prefix")
        .arg(&prefix)
        .arg("bench")
        .args(args)
        .output()
        .expect("the jobqueue binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "jobqueue bench {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stdout: {stdout}");
    let line: Value = serde_json::from_str(lines[0]).expect("the line is JSON");
    assert_eq!(line["system"], "jobqueue");
    assert_eq!(line["workload"], args[0]);
    assert!(line["version"].is_string());
    line
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", std::process::id(), nanos)
}

fn assert_fields(line: &Value, fields: &[&str]) {
    for field in fields {
        assert!(
            line.get(*field).is_some_and(|v| !v.is_null()),
            "field {field} missing in {line}"
        );
    }
}

#[test]
fn w1_drains_every_job_and_reports_the_drain() {
    let line = bench(&["w1", "--jobs", "300", "--concurrency", "4"]);
    assert_fields(
        &line,
        &[
            "n",
            "c",
            "jobs_per_s",
            "drain_s",
            "boot_s",
            "bulk_enqueue_s",
            "processed",
            "failed",
        ],
    );
    assert_eq!(line["n"], 300);
    assert_eq!(line["processed"], 300);
    assert_eq!(line["failed"], 0);
}

#[test]
fn w1_variants_run_the_retry_path_and_many_queues() {
    let line = bench(&["w1", "--jobs", "200", "--fail-once"]);
    assert_eq!(line["processed"], 200, "{line}");
    assert_eq!(line["failed"], 200, "every job failed once: {line}");
    let line = bench(&["w1", "--jobs", "200", "--queues", "10"]);
    assert_eq!(line["processed"], 200, "{line}");
    assert_eq!(line["queues"], 10);
}

#[test]
fn w1_flow_control_variants_run_with_limits_and_unique_jobs() {
    for (flag, name) in [
        (None, "both"),
        (Some("running"), "running"),
        (Some("rate"), "rate"),
    ] {
        let mut args = vec!["w1", "--jobs", "200", "--limits"];
        args.extend(flag);
        let line = bench(&args);
        assert_eq!(line["processed"], 200, "{line}");
        assert_eq!(line["limits"], name, "{line}");
    }
    let line = bench(&["w1", "--jobs", "200", "--unique"]);
    assert_eq!(line["processed"], 200, "{line}");
    assert_eq!(line["unique"], true);
}

#[test]
fn w2_single_and_bulk_report_rates() {
    let line = bench(&["w2_single", "--jobs", "200"]);
    assert_fields(&line, &["n", "ops_per_s", "seconds"]);
    let line = bench(&["w2_bulk", "--jobs", "2000", "--batch", "500"]);
    assert_fields(&line, &["n", "batch", "jobs_per_s", "seconds"]);
    assert_eq!(line["batch"], 500);
}

#[test]
fn w3_reports_latency_percentiles() {
    let line = bench(&["w3", "--jobs", "100", "--rate", "200"]);
    assert_fields(
        &line,
        &[
            "n",
            "c",
            "target_rate",
            "achieved_rate",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
            "min_ms",
        ],
    );
}

#[test]
fn w4_never_runs_a_delayed_job_early() {
    let line = bench(&["w4", "--jobs", "20"]);
    assert_fields(
        &line,
        &["n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "min_ms"],
    );
    let earliest = line["min_ms"].as_f64().expect("min_ms is a number");
    assert!(earliest >= 0.0, "a delayed job ran {earliest} ms early");
}

#[test]
fn w5_reports_bytes_per_waiting_job() {
    let line = bench(&["w5", "--jobs", "2000"]);
    assert_fields(&line, &["n", "bytes_per_job", "payload_bytes"]);
}

#[test]
fn limits_runs_every_job_across_worker_processes() {
    for flow in ["running", "keys"] {
        let line = bench(&["limits", "--flow", flow, "--jobs", "20", "--processes", "2"]);
        assert_eq!(line["flow"], flow);
        assert_eq!(line["ran"], 20, "{line}");
        assert_fields(
            &line,
            &["utilisation", "busy_slots", "run_s", "ideal_s", "slots"],
        );
    }
    for flow in ["strict", "bucket"] {
        let line = bench(&["limits", "--flow", flow, "--jobs", "20", "--processes", "2"]);
        assert_eq!(line["ran"], 20, "{line}");
        assert_fields(&line, &["busiest_window", "rate_per_s", "limit_per_s"]);
    }
}

#[test]
fn caps_samples_every_window_and_gives_a_verdict() {
    let line = bench(&[
        "caps",
        "--jobs",
        "400",
        "--logs",
        "--fail-every",
        "4",
        "--dead-max",
        "10",
    ]);
    assert_eq!(line["features"], serde_json::json!(["logs"]), "{line}");
    assert_eq!(
        (line["processed"].as_u64(), line["failed"].as_u64()),
        (Some(300), Some(100))
    );
    let samples = line["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 21, "{line}");
    for sample in &samples[1..] {
        assert_fields(sample, &["jobs", "used_memory", "keys", "dead", "logs"]);
        assert!(sample["dead"].as_u64() <= Some(10), "{sample}");
    }
    assert_eq!(samples[20]["jobs"], 400);
    assert_eq!(samples[20]["dead"], 10, "the cap is reached: {line}");
    assert_fields(
        &line,
        &["growth_second_half_bytes", "threshold_bytes", "seconds"],
    );
    assert!(line["flat"].is_boolean(), "{line}");
}

#[test]
fn an_unknown_workload_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .args(["--redis-url", &redis_url(), "bench", "w9"])
        .output()
        .expect("the jobqueue binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown workload"), "{stderr}");
}
