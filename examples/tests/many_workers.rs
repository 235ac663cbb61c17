//! The many_workers example as a user runs it: the compiled program, with
//! its worker child processes, against the test Redis under a test prefix.

use std::path::PathBuf;
use std::process::Command;

use jobqueue::testing::TestRedis;

/// The example's binary, (re)built with the same cargo that runs this test
/// (a no-op when `cargo test` already built the examples).
fn example_binary() -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .to_owned();
    let mut build = Command::new(env!("CARGO"));
    build.args([
        "build",
        "--quiet",
        "-p",
        "jobqueue-examples",
        "--example",
        "many_workers",
    ]);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(
        status.success(),
        "cargo build --example many_workers failed"
    );
    profile_dir.join("examples").join("many_workers")
}

#[tokio::test]
async fn three_worker_processes_run_every_job_exactly_once_through_a_graceful_stop()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("many-workers").await?;
    let prefix = t.prefix().to_owned();
    let url = jobqueue::testing::test_redis_url();
    let binary = example_binary();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .env("JOBQUEUE_REDIS_URL", url)
            .env("JOBQUEUE_PREFIX", prefix)
            .output()
    })
    .await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("300 distinct jobs ran, 0 more than once: every job ran exactly once"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("stopped gracefully").count(), 3, "{stdout}");

    let admin = t.client().admin();
    for (queue, jobs) in [("critical", 100), ("default", 200)] {
        let info = admin.queue(queue).await?;
        assert_eq!(
            (info.processed, info.ready, info.active),
            (jobs, 0, 0),
            "{queue}: {info:?}"
        );
    }
    assert!(
        admin.workers().await?.is_empty(),
        "every worker removed itself"
    );
    Ok(())
}
