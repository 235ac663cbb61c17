//! The durable_order example with its worker as a real process, killed
//! (SIGKILL) between two steps: after the restart no step runs twice, the
//! payment API charged once, the "shipped" signal (sent while no worker
//! ran) is taken, and the receipt goes out once. The same request enqueued
//! twice is one job.

#[path = "../durable_order.rs"]
#[allow(dead_code)]
mod durable_order;

use std::process::Stdio;
use std::time::Duration;

use durable_order::{FulfilOrder, Services, Shipped};
use jobqueue::testing::{TestRedis, eventually};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `target/<profile>/examples/durable_order`, built here when a filtered
/// test run did not build the examples.
fn example_binary() -> std::path::PathBuf {
    let test_exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = profile_dir.join("examples").join("durable_order");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let built = std::process::Command::new(cargo)
            .args([
                "build",
                "-p",
                "jobqueue-examples",
                "--example",
                "durable_order",
            ])
            .status()
            .expect("cargo runs");
        assert!(
            built.success(),
            "cargo build --example durable_order failed"
        );
    }
    binary
}

/// Starts `durable_order worker` on the test's prefix; returns once ready.
async fn start_worker(t: &TestRedis) -> Child {
    let mut child = Command::new(example_binary())
        .arg("worker")
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the example starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next_line().await.expect("stdout readable") {
            Some(line) if line.starts_with("READY ") => break,
            Some(_) => {}
            None => panic!("the example's worker exited before it was ready"),
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_between_steps_charges_once_and_ships()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("durable-order").await?;
    let client = t.client();
    let services = Services {
        redis_url: t.url().to_owned(),
        key: format!("{}:services", t.prefix()),
    };
    let order = FulfilOrder {
        order_id: 7,
        amount_cents: 1250,
        services: services.clone(),
        packing_ms: 1500,
    };
    let mut victim = start_worker(&t).await;
    let id = durable_order::enqueue(&client, order.clone(), "checkout-7").await?;
    assert_eq!(
        durable_order::enqueue(&client, order, "checkout-7").await?,
        id,
        "the retried request is the same job"
    );
    // Killed while packing: stock reserved (stored), not charged yet.
    assert!(
        eventually(Duration::from_secs(10), || async {
            services.count("reserve_stock").await.unwrap_or(0) == 1
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    victim.kill().await?;
    assert_eq!(services.count("charge_calls").await?, 0);
    // The warehouse ships while no worker runs: the signal waits.
    let shipped = Shipped {
        tracking: "1Z999".into(),
    };
    client.signal("default", id, "shipped", &shipped).await?;

    let mut survivor = start_worker(&t).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            services.count("send_receipt").await.unwrap_or(0) == 1
        })
        .await,
        "the order finished after the kill"
    );
    assert_eq!(services.count("reserve_stock").await?, 1, "reserved once");
    assert_eq!(services.count("charge_calls").await?, 1, "charged once");
    assert_eq!(services.count("send_receipt").await?, 1, "one receipt");
    let info = client.admin().queue("default").await?;
    assert_eq!((info.retry, info.dead, info.processed), (0, 0, 1));
    survivor.kill().await?;
    Ok(())
}
