//! `jobqueue jobs search` against real Redis: by tag, field, type and id,
//! `--json` pages with "scanned N of M" and a cursor, bad input refused
//! with exit code 2, and `--action` on what a search found.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jobqueue_core::{Job, JobContext, JobError};
use jobqueue_testing::TestRedis;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Import {
    customer_id: u64,
}

impl Job for Import {
    const NAME: &'static str = "import";
    async fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

fn run(t: &TestRedis, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jobqueue"))
        .args(args)
        .env("JOBQUEUE_REDIS_URL", t.url())
        .env("JOBQUEUE_PREFIX", t.prefix())
        .env_remove("JOBQUEUE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run jobqueue")
}

fn json(t: &TestRedis, args: &[&str]) -> serde_json::Value {
    let out = run(t, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_search_finds_pages_and_acts() {
    let t = TestRedis::named("cli-search")
        .await
        .expect("the test Redis");
    let client = t.client();
    for customer_id in 0..30u64 {
        client
            .job(Import { customer_id })
            .tags([
                format!("customer:{customer_id}"),
                "import:2026-11".to_owned(),
            ])
            .delay(Duration::from_secs(3600))
            .enqueue()
            .await
            .expect("enqueue");
    }

    let page = json(&t, &["--json", "jobs", "search", "--tag", "customer:7"]);
    let hits = page["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["job"]["state"], "scheduled");
    assert_eq!(hits[0]["job"]["tags"][0], "customer:7");
    assert_eq!(page["indexed"], true);

    let page = json(
        &t,
        &[
            "--json",
            "jobs",
            "search",
            "--field",
            "args.customer_id = 12",
            "--budget",
            "10",
        ],
    );
    // The budget, give or take what one HSCAN step returns beyond its COUNT.
    let scanned = page["scanned"].as_u64().unwrap_or(0);
    assert!((10..=26).contains(&scanned), "{scanned}");
    assert_eq!(page["total"], 30);
    let mut cursor = page["next_cursor"].as_str().expect("a cursor").to_owned();
    let mut found = page["hits"].as_array().map_or(0, Vec::len);
    while !cursor.is_empty() {
        let page = json(
            &t,
            &[
                "--json",
                "jobs",
                "search",
                "--field",
                "customer_id=12",
                "--budget",
                "10",
                "--cursor",
                &cursor,
            ],
        );
        found += page["hits"].as_array().map_or(0, Vec::len);
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(found, 1);

    let table = run(&t, &["jobs", "search", "--type", "import", "--limit", "5"]);
    assert!(table.status.success());
    let stderr = String::from_utf8_lossy(&table.stderr);
    assert!(
        stderr.contains("scanned") && stderr.contains("next page: --cursor"),
        "{stderr}"
    );

    for bad in [
        vec!["jobs", "search"],
        vec!["jobs", "search", "--tag", "a", "--type", "import"],
        vec!["jobs", "search", "--field", "no equals"],
        vec!["jobs", "search", "--tag", "a", "--action", "explode"],
        vec!["jobs", "ready", "--tag", "a"],
    ] {
        assert_eq!(run(&t, &bad).status.code(), Some(2), "{bad:?}");
    }

    let done = json(
        &t,
        &[
            "--json",
            "jobs",
            "search",
            "--tag",
            "import:2026-11",
            "--action",
            "delete",
            "--all",
            "--limit",
            "7",
        ],
    );
    assert_eq!(done["changed"], 30);
    assert_eq!(done["pages"], 5);
    let info = client.admin().queue("default").await.expect("queue");
    assert_eq!(info.scheduled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_search_by_batch_finds_and_cancels_the_batch_jobs() {
    let t = TestRedis::named("cli-search-batch")
        .await
        .expect("the test Redis");
    let client = t.client();
    let batch = client.batch().create().await.expect("batch");
    let mut ids: Vec<String> = batch
        .add((0..5).map(|customer_id| Import { customer_id }))
        .await
        .expect("add")
        .iter()
        .map(ToString::to_string)
        .collect();
    ids.sort();
    batch.seal().await.expect("seal");
    let other = client.batch().create().await.expect("batch");
    other.add([Import { customer_id: 99 }]).await.expect("add");
    client
        .enqueue(Import { customer_id: 100 })
        .await
        .expect("enqueue");
    let batch_id = batch.id().to_string();

    let page = json(&t, &["--json", "jobs", "search", "--batch", &batch_id]);
    let mut found: Vec<String> = page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    found.sort();
    assert_eq!(found, ids);
    assert!(
        page["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .all(|h| h["job"]["state"] == "ready" && h["job"]["batch"] == batch_id.as_str())
    );
    assert_eq!(page["total"], 7);

    let table = run(&t, &["jobs", "search", "--batch", &batch_id]);
    assert!(table.status.success());
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert!(ids.iter().all(|id| stdout.contains(&id[24..])), "{stdout}");

    let shown = run(&t, &["batch", &batch_id]);
    assert!(shown.status.success());
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains(&format!(
            "jobqueue jobs search --batch {batch_id} --queue default"
        )),
        "`jobqueue batch` says how to list its jobs: {shown}"
    );

    for bad in [
        vec!["jobs", "search", "--batch", "not-a-uuid"],
        vec!["jobs", "search", "--batch", &batch_id, "--tag", "a"],
        vec!["jobs", "ready", "--batch", &batch_id],
    ] {
        assert_eq!(run(&t, &bad).status.code(), Some(2), "{bad:?}");
    }

    let done = json(
        &t,
        &[
            "--json", "jobs", "search", "--batch", &batch_id, "--action", "cancel", "--all",
        ],
    );
    assert_eq!(done["changed"], 5);
    let info = client
        .admin()
        .batch("default", batch.id())
        .await
        .expect("batch");
    assert_eq!((info.pending, info.cancelled), (0, 5));
    assert_eq!(
        client.admin().queue("default").await.expect("queue").ready,
        2
    );
}
