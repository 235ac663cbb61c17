//! The dashboard in a real browser: headless Chromium driven over WebDriver
//! (chromedriver + fantoccini). Opens the overview, sees the chart and the
//! queue table, opens a dead job, clicks retry and sees it leave the dead
//! set, opens the cron page and pauses an entry from it, and shows a job's
//! progress and a queue's limits. Saves screenshots of the main pages under
//! `target/dashboard-screenshots/` (or `$JOBQUEUE_SCREENSHOT_DIR`).
//!
//! `scripts/test` installs Debian's `chromium` and `chromium-driver`. When
//! they are missing this test fails with instructions, unless
//! `JOBQUEUE_SKIP_BROWSER_TEST` is set (scripts/test sets it, loudly, only
//! when the packages cannot be installed).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use jobqueue_core::cron::CronEntry;
use jobqueue_dashboard::{DashboardConfig, Role, dashboard_router};
use jobqueue_tests::dashboard::make_dead_jobs;
use jobqueue_tests::jobs::NoopJob;
use jobqueue_tests::probe::ProbeJob;
use jobqueue_tests::{TestEnv, eventually, test_worker};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("JOBQUEUE_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard-screenshots")
        })
}

async fn wait_for(client: &fantoccini::Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
}

async fn shoot(client: &fantoccini::Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// A headless Chromium session through the chromedriver on `port`, with a
/// fresh profile directory (returned, to delete afterwards).
async fn browser_session(port: u16, extra_args: &[&str]) -> (fantoccini::Client, PathBuf) {
    let profile =
        std::env::temp_dir().join(format!("jq-chromium-{}", uuid::Uuid::new_v4().simple()));
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1280,1000".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend(extra_args.iter().map(|a| (*a).to_owned()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    let connect_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (client, profile),
            Err(err) if Instant::now() < connect_deadline => {
                tracing::debug!(error = %err, "chromedriver not ready yet");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => panic!("cannot start a Chromium session: {err}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_retries_a_dead_job_in_a_real_browser() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        if let Some(reason) = std::env::var_os("JOBQUEUE_SKIP_BROWSER_TEST") {
            eprintln!(
                "\n!!!!!!!! SKIPPED: the real-browser dashboard test did not run: {} !!!!!!!!\n",
                reason.to_string_lossy()
            );
            return;
        }
        panic!(
            "the browser test needs {CHROMIUM} and {CHROMEDRIVER}: \
             run `apt-get install -y chromium chromium-driver` (scripts/test does this)"
        );
    }
    let env = TestEnv::new("dash-browser").await;
    // Some history for the chart: jobs that succeeded, and dead jobs.
    env.client
        .enqueue_bulk((0..200).map(|n| NoopJob { n }))
        .await
        .unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    let admin = env.client.admin();
    assert!(
        eventually(Duration::from_secs(20), || async {
            admin.totals().await.unwrap().processed >= 200
        })
        .await
    );
    worker.shutdown().await;
    let messages: Vec<String> = (0..6)
        .map(|i| {
            if i % 3 == 0 {
                format!("SMTP 550 mailbox user{i}@example.com unavailable")
            } else {
                format!("timeout after {i}s talking to payments-{i}.internal")
            }
        })
        .collect();
    make_dead_jobs(&env, &messages, "<b>not bold</b>").await;
    env.client
        .enqueue_bulk((0..42).map(|n| NoopJob { n }))
        .await
        .unwrap();
    env.client
        .enqueue_in(Duration::from_secs(3600), NoopJob { n: 7 })
        .await
        .unwrap();

    // The dashboard on a real socket, open like `jobqueue serve` on loopback.
    let router = dashboard_router(
        admin.clone(),
        DashboardConfig::behind_host_auth(Role::Operator),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let port = free_port();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let (client, profile) = browser_session(port, &[]).await;

    // Overview: the live cards, the server-drawn chart and the queue table.
    client.goto(&format!("{base}/")).await.unwrap();
    wait_for(&client, "#queues-table tr[data-queue=\"default\"]").await;
    let chart_loaded = client
        .execute(
            "const i = document.getElementById('chart-hour'); return i.complete && i.naturalWidth > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        chart_loaded,
        serde_json::Value::Bool(true),
        "the chart image loaded"
    );
    // The live script polls the JSON API (CSP allows our own script only).
    let status = wait_for(&client, "#live-status").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !status.text().await.unwrap().starts_with("Updated") {
        assert!(Instant::now() < deadline, "live updates never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shoot(&client, "overview").await;

    client.goto(&format!("{base}/queues")).await.unwrap();
    wait_for(&client, "#queues-table").await;
    shoot(&client, "queues").await;

    client
        .goto(&format!("{base}/queues/default/groups"))
        .await
        .unwrap();
    wait_for(&client, "#groups-table").await;
    shoot(&client, "dead-groups").await;

    // Dead list → a dead job → Retry now → it has left the dead set.
    client
        .goto(&format!("{base}/queues/default/jobs/dead"))
        .await
        .unwrap();
    wait_for(&client, "#jobs-table").await;
    shoot(&client, "dead-jobs").await;
    let dead_before = admin.queue("default").await.unwrap().dead;
    wait_for(&client, "a.job-link").await.click().await.unwrap();
    let id_text = wait_for(&client, "#job-id").await.text().await.unwrap();
    let id: uuid::Uuid = id_text.trim().parse().expect("job id on the page");
    assert!(
        client
            .source()
            .await
            .unwrap()
            .contains("&lt;b&gt;not bold&lt;/b&gt;"),
        "payload escaped"
    );
    shoot(&client, "job").await;
    wait_for(&client, "#retry-job").await.click().await.unwrap();
    wait_for(&client, "p.flash").await;
    let flash = client
        .find(Locator::Css("p.flash"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(flash, "1 job(s) moved to ready.");
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/jobs/dead")
    );
    assert!(
        !client.source().await.unwrap().contains(&id.to_string()),
        "the job left the dead list"
    );
    assert_eq!(admin.queue("default").await.unwrap().dead, dead_before - 1);
    assert!(
        admin.job("default", id).await.unwrap().is_none(),
        "no longer dead"
    );

    // A worker busy with a slow job, so the page shows what it runs now.
    let mut slow = env.test_job();
    slow.sleep_ms = 3000;
    env.client.job(slow).queue("other").enqueue().await.unwrap();
    let worker = test_worker(&env).queues(["other"]).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            let workers = admin.workers().await.unwrap();
            let running = admin.running_jobs(&workers).await.unwrap();
            running.iter().any(|jobs| !jobs.is_empty())
        })
        .await
    );
    client.goto(&format!("{base}/workers")).await.unwrap();
    wait_for(&client, "#workers-table").await;
    shoot(&client, "workers").await;
    worker.shutdown().await;

    client.goto(&format!("{base}/audit")).await.unwrap();
    wait_for(&client, "#audit-table").await;
    shoot(&client, "audit").await;

    // Cron: entries registered by a worker, one with a finished run; pause
    // one from its row and see the page say so.
    let worker = test_worker(&env)
        .cron_entry(
            CronEntry::new("daily-report", "0 30 7 * * MON-FRI", &NoopJob { n: 1 })
                .unwrap()
                .time_zone("Europe/Berlin")
                .unwrap(),
        )
        .cron_entry(CronEntry::new("new-year", "@yearly", &NoopJob { n: 2 }).unwrap())
        .start()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.cron_entries().await.unwrap().len() == 2
        })
        .await
    );
    let run = admin.run_cron_now("default", "daily-report").await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin
                .cron_entry("default", "daily-report")
                .await
                .unwrap()
                .and_then(|e| e.last_result)
                .is_some_and(|r| r.job_id == run)
        })
        .await,
        "the cron run's result was not recorded"
    );
    worker.shutdown().await;
    client.goto(&format!("{base}/cron")).await.unwrap();
    wait_for(&client, "#cron-table").await;
    shoot(&client, "cron").await;
    wait_for(
        &client,
        "tr[data-cron=\"default/daily-report\"] button.cron-pause",
    )
    .await
    .click()
    .await
    .unwrap();
    let flash = wait_for(&client, "p.flash").await.text().await.unwrap();
    assert_eq!(flash, "Cron entry paused.");
    wait_for(
        &client,
        "tr[data-cron=\"default/daily-report\"] button.cron-resume",
    )
    .await;
    assert!(
        admin
            .cron_entry("default", "daily-report")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_some(),
        "the click paused the entry"
    );
    assert_eq!(
        admin.audit_log(None, 1).await.unwrap()[0].action,
        "cron_pause"
    );

    // A queue with flow limits, and a job that reported progress before it
    // died: the limits page and the job's status section.
    admin
        .set_queue_limits(
            "default",
            jobqueue_core::QueueLimits {
                max_running: Some(20),
                rate: Some(jobqueue_core::RateLimit {
                    limit: 100,
                    per: Duration::from_secs(1),
                }),
            },
        )
        .await
        .unwrap();
    let reporting = env
        .client
        .job(ProbeJob {
            progress: Some((60, "rendered 3 of 5 pages".into())),
            fail: Some("renderer crashed".into()),
            ..ProbeJob::new(&env.url, &format!("{}:probe", env.prefix))
        })
        .queue("reports")
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env).queues(["reports"]).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.job("reports", reporting).await.unwrap().is_some()
        })
        .await
    );
    worker.shutdown().await;
    client
        .goto(&format!("{base}/queues/reports/job/{reporting}"))
        .await
        .unwrap();
    wait_for(&client, "#job-progress").await;
    shoot(&client, "job-status").await;
    client
        .goto(&format!("{base}/queues/default/limits"))
        .await
        .unwrap();
    wait_for(&client, "#limits-form").await;
    shoot(&client, "limits").await;

    // A phone-sized overview.
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&format!("{base}/")).await.unwrap();
    wait_for(&client, "#queues-table").await;
    shoot(&client, "overview-phone").await;

    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    // The same overview with the system in dark mode.
    let (dark, dark_profile) = browser_session(port, &["--force-dark-mode"]).await;
    dark.goto(&format!("{base}/")).await.unwrap();
    wait_for(&dark, "#queues-table").await;
    shoot(&dark, "overview-dark").await;
    dark.goto(&format!("{base}/queues/default/jobs/dead"))
        .await
        .unwrap();
    wait_for(&dark, "#jobs-table").await;
    shoot(&dark, "dead-jobs-dark").await;
    dark.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dark_profile);
    server.abort();
    env.cleanup().await;
}
