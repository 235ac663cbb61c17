//! The dashboard in a real browser: headless Chromium driven over WebDriver
//! (chromedriver + fantoccini). Opens the overview, sees the chart and the
//! queue table, opens a dead job, clicks retry and sees it leave the dead
//! set, opens the cron page and pauses an entry from it, and shows a job's
//! progress, its logs and a queue's limits. Saves screenshots of the main pages under
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
use jobqueue_integration::dashboard::{make_dead_jobs, serve_config};
use jobqueue_integration::job_logs::LogLinesJob;
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::probe::ProbeJob;
use jobqueue_integration::worker_process::{WorkerProcess, WorkerSpec};
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

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
    match client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            let url = client.current_url().await.map(|u| u.to_string());
            let source = client.source().await.unwrap_or_default();
            let shown: String = source.chars().take(2000).collect();
            panic!("element {css} did not appear: {e}\nat {url:?}:\n{shown}")
        }
    }
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

/// False (after saying so loudly) when the browser test is to be skipped;
/// panics when Chromium is missing and skipping was not asked for.
fn browser_available() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    if let Some(reason) = std::env::var_os("JOBQUEUE_SKIP_BROWSER_TEST") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: the real-browser dashboard test did not run: {} !!!!!!!!\n",
            reason.to_string_lossy()
        );
        return false;
    }
    panic!(
        "the browser test needs {CHROMIUM} and {CHROMEDRIVER}: \
         run `apt-get install -y chromium chromium-driver` (scripts/test does this)"
    );
}

/// A chromedriver on a free port.
fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    (driver, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_retries_a_dead_job_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let env = test_redis("dash-browser").await;
    // Some history for the chart: jobs that succeeded, and dead jobs.
    env.client()
        .enqueue_bulk((0..200).map(|n| NoopJob { n }))
        .await
        .unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    let admin = env.client().admin();
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
    env.client()
        .enqueue_bulk((0..42).map(|n| NoopJob { n }))
        .await
        .unwrap();
    env.client()
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

    let (_driver, port) = start_driver();
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
    env.client()
        .job(slow)
        .queue("other")
        .enqueue()
        .await
        .unwrap();
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
                rate: Some(jobqueue_core::RateLimit::bucket(
                    100,
                    Duration::from_secs(1),
                )),
            },
        )
        .await
        .unwrap();
    let reporting = env
        .client()
        .job(ProbeJob {
            progress: Some((60, "rendered 3 of 5 pages".into())),
            fail: Some("renderer crashed".into()),
            ..ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()))
        })
        .queue("reports")
        .enqueue()
        .await
        .unwrap();
    // A batch whose description is hostile markup: shown escaped.
    let batch = env
        .client()
        .batch()
        .queue("reports")
        .description("<script>alert(1)</script> nightly import")
        .on_complete(NoopJob { n: 99 })
        .enqueue((0..3).map(|n| NoopJob { n }))
        .await
        .unwrap();
    // A parent batch waiting on a child batch on another queue, and jobs
    // tagged for a customer, waiting (delayed) to be found by the search.
    let parent = env
        .client()
        .batch()
        .queue("reports")
        .description("monthly close")
        .create()
        .await
        .unwrap();
    let child = parent
        .child()
        .queue("archive")
        .description("archive rows")
        .enqueue((0..2).map(|n| NoopJob { n }))
        .await
        .unwrap();
    parent.seal().await.unwrap();
    for n in 0..3 {
        env.client()
            .job(NoopJob { n })
            .queue("reports")
            .tags(["customer:4711", "import:2026-11"])
            .delay(Duration::from_secs(3600))
            .enqueue()
            .await
            .unwrap();
    }
    let worker = test_worker(&env).queues(["reports"]).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.job("reports", reporting).await.unwrap().is_some()
                && admin.batch("reports", batch.id()).await.unwrap().pending == 0
        })
        .await
    );
    worker.shutdown().await;
    client
        .goto(&format!("{base}/queues/reports/batches/{}", parent.id()))
        .await
        .unwrap();
    let children = wait_for(&client, "#batch-children").await;
    assert!(
        children
            .text()
            .await
            .unwrap()
            .contains(&child.id().to_string())
    );
    shoot(&client, "batch-parent").await;
    client
        .goto(&format!(
            "{base}/queues/reports/search?by=tag&q=customer%3A4711"
        ))
        .await
        .unwrap();
    let hits = wait_for(&client, "#search-table").await;
    assert_eq!(
        hits.find_all(fantoccini::Locator::Css("tbody tr"))
            .await
            .unwrap()
            .len(),
        3
    );
    shoot(&client, "search").await;
    client
        .goto(&format!("{base}/queues/reports/batches/{}", batch.id()))
        .await
        .unwrap();
    let description = wait_for(&client, "#batch-description").await;
    assert_eq!(
        description.text().await.unwrap(),
        "<script>alert(1)</script> nightly import"
    );
    wait_for(&client, "li[data-callback=\"complete\"] .badge.succeeded").await;
    shoot(&client, "batch").await;
    client
        .goto(&format!("{base}/queues/reports/batches"))
        .await
        .unwrap();
    wait_for(&client, "#batches-table").await;
    shoot(&client, "batches").await;
    client
        .goto(&format!("{base}/queues/reports/job/{reporting}"))
        .await
        .unwrap();
    wait_for(&client, "#job-progress").await;
    shoot(&client, "job-status").await;
    show_job_logs(&client, &base, &env).await;
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
}

/// A job whose two attempts failed, run by a worker process keeping
/// per-job logs, its lines carrying markup: its page shows the logs
/// section, the last attempt open with its lines as text (screenshot
/// `job-logs`).
async fn show_job_logs(client: &fantoccini::Client, base: &str, env: &TestRedis) {
    let mut spec = WorkerSpec::new(env.url(), env.prefix());
    spec.queues = "logs".to_owned();
    spec.env.push(("JQ_JOB_LOGS".to_owned(), "1".to_owned()));
    let worker = WorkerProcess::start(WORKER, &spec);
    let job = LogLinesJob {
        lines: 4,
        text: "imported <b>order 4711</b>".to_owned(),
        fail_attempts: 2,
    };
    let id = env.client().job(job).queue("logs").enqueue().await.unwrap();
    let admin = env.client().admin();
    assert!(
        eventually(Duration::from_secs(20), || async {
            admin.job_logs("logs", id).await.unwrap().len() == 2
        })
        .await,
        "both attempts' logs stored"
    );
    worker.terminate();
    assert!(worker.wait(Duration::from_secs(10)), "worker exited");

    client
        .goto(&format!("{base}/queues/logs/job/{id}"))
        .await
        .unwrap();
    assert!(
        wait_for(client, "#logs")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    let last = wait_for(client, "#log-attempt-2 pre").await;
    assert!(
        last.is_displayed().await.unwrap(),
        "the last attempt is open"
    );
    let text = last.text().await.unwrap();
    assert!(
        text.contains("imported <b>order 4711</b> attempt 2 line=3"),
        "the lines, markup shown as text: {text}"
    );
    assert!(
        text.contains("failed on purpose"),
        "the worker's line: {text}"
    );
    assert!(
        client
            .find_all(Locator::Css("#logs ~ details b"))
            .await
            .unwrap()
            .is_empty(),
        "no markup from a log line rendered"
    );
    assert!(
        !wait_for(client, "#log-attempt-1 pre")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "earlier attempts start closed"
    );
    client
        .execute("document.getElementById('logs').scrollIntoView()", vec![])
        .await
        .unwrap();
    shoot(client, "job-logs").await;
}

/// The body of `GET path` from the server at `addr` (HTTP/1.1, by hand).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}

/// Issue 12 in a real browser: a page elsewhere attacks `jobqueue serve`
/// running without credentials on 127.0.0.1 — from another port of the
/// same host with a forged form (carrying even the real CSRF token), and
/// through DNS rebinding (Chromium resolves `attacker.test` to 127.0.0.1,
/// as a rebound name would). Both fail and the queue stays unpaused, while
/// the operator's own click on the dashboard works. A job whose error
/// carries U+202E shows it escaped, not applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_elsewhere_cannot_act_on_an_open_local_dashboard() {
    if !browser_available() {
        return;
    }
    let env = test_redis("dash-browser-attack").await;
    let admin = env.client().admin();
    let ids = make_dead_jobs(
        &env,
        &["attachment invoice_\u{202E}fdp.exe rejected".to_owned()],
        "",
    )
    .await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();

    // The dashboard as `jobqueue serve --bind 127.0.0.1:<port>` builds it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dash_addr = listener.local_addr().unwrap();
    let router = dashboard_router(
        admin.clone(),
        serve_config(&["--bind", &dash_addr.to_string()]),
    );
    let dashboard = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let base = format!("http://{dash_addr}");
    // The dashboard's real CSRF token, as if it had leaked.
    let token = jobqueue_integration::dashboard::csrf_token_in(&http_get(dash_addr, "/").await)
        .expect("the open dashboard's page carries a token");

    // The attacker's site, on another port of the same host. Its form
    // even carries the real CSRF token, to show the origin checks stand
    // on their own.
    let attacker_page = format!(
        "<!doctype html><title>cute cats</title>\
         <form id=f method=post action=\"{base}/queues/default/pause\">\
         <input type=hidden name=csrf value=\"{token}\"></form>\
         <script>document.getElementById('f').submit()</script>"
    );
    let attacker = axum::Router::new().route(
        "/cats.html",
        axum::routing::get(move || {
            let page = attacker_page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    let attacker_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let attacker_addr = attacker_listener.local_addr().unwrap();
    let attacker_server =
        tokio::spawn(async move { axum::serve(attacker_listener, attacker).await });

    let (_driver, port) = start_driver();
    let (client, profile) =
        browser_session(port, &["--host-resolver-rules=MAP attacker.test 127.0.0.1"]).await;
    let paused = || async { admin.queue("default").await.unwrap().paused };

    // 1. The forged form from another port: the browser posts it (with the
    //    token), the dashboard refuses it.
    client
        .goto(&format!("http://{attacker_addr}/cats.html"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .starts_with(&base)
    {
        assert!(
            Instant::now() < deadline,
            "the forged form was never posted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answer = wait_for(&client, "body").await.text().await.unwrap();
    assert!(
        answer.contains("request from another origin refused"),
        "{answer}"
    );
    assert!(!paused().await, "the forged form paused the queue");
    shoot(&client, "attack-forged-form").await;

    // 2. DNS rebinding: the attacker's name now resolves to 127.0.0.1, so
    //    its page shares an origin with the dashboard's port. Its script
    //    tries the whole attack: read a page for the token, then pause.
    client
        .goto(&format!("http://attacker.test:{}/", dash_addr.port()))
        .await
        .unwrap();
    let refused = wait_for(&client, "#error-message")
        .await
        .text()
        .await
        .unwrap();
    assert!(refused.contains("attacker.test"), "{refused}");
    let outcome = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            (async () => {
                const page = await fetch('/queues');
                const html = await page.text();
                const m = html.match(/name="csrf-token" content="([0-9a-f]+)"/);
                const token = m ? m[1] : '';
                const stats = await fetch('/api/v1/stats');
                const pause = await fetch('/api/v1/queues/default/pause',
                    { method: 'POST', headers: { 'X-CSRF-Token': token } });
                return [page.status, stats.status, pause.status, token.length];
            })().then(done, e => done(String(e)));"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        serde_json::json!([403, 403, 403, 0]),
        "the rebound page read or changed something"
    );
    assert!(!paused().await, "the rebound page paused the queue");
    shoot(&client, "attack-rebinding").await;

    // 3. The operator, on the dashboard itself: the same pause works.
    client.goto(&format!("{base}/queues")).await.unwrap();
    wait_for(&client, "#queues-table").await;
    wait_for(
        &client,
        "tr[data-queue=\"default\"] form[action=\"/queues/default/pause\"] button",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for(&client, "tr[data-queue=\"default\"] .badge.warn").await;
    assert!(paused().await, "the operator's own click did not pause");

    // 4. A bidi override in job data is shown, not applied.
    client
        .goto(&format!("{base}/queues/default/job/{}", ids[0]))
        .await
        .unwrap();
    let shown = client
        .execute(
            r#"const pre = document.querySelector('pre.error');
            const mark = pre.querySelector('.hidden-char');
            return [pre.textContent.includes('\u202E'), mark ? mark.textContent : null];"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, serde_json::json!([false, "\\u{202E}"]));
    shoot(&client, "job-bidi-escaped").await;

    let entries = admin.audit_log(None, 100).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.outcome == "refused_csrf" && e.client.as_deref() == Some("127.0.0.1")),
        "the forged form is in the audit log with its client address"
    );
    assert!(entries.iter().any(|e| e.outcome == "refused_host"));

    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    attacker_server.abort();
    dashboard.abort();
}

/// The dashboard on a real socket (with client addresses), as `jobqueue
/// serve --basic-auth` builds it with `config`; returns its base URL.
async fn serve_on_loopback(
    config: DashboardConfig,
    admin: jobqueue_core::Admin,
) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = dashboard_router(admin, config);
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    (base, server)
}

/// Signs in on the sign-in page the browser is on.
async fn sign_in_with_form(client: &fantoccini::Client, user: &str, password: &str) {
    let user_field = wait_for(client, "#user").await;
    // A failed sign-in fills the name in again.
    user_field.clear().await.unwrap();
    user_field.send_keys(user).await.unwrap();
    wait_for(client, "#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    wait_for(client, "#sign-in").await.click().await.unwrap();
}

async fn current_path(client: &fantoccini::Client) -> String {
    let url = client.current_url().await.unwrap();
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Issue 20 in a real browser: the dashboard with credentials sends a
/// browser to its sign-in page, the sign-in (Secure, HttpOnly,
/// SameSite=Strict cookie over http://127.0.0.1) lands on the page asked
/// for, an operator action works, signing out ends the session, and a
/// session left idle past its timeout sends the browser back to sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_acts_signs_out_and_times_out() {
    if !browser_available() {
        return;
    }
    let env = test_redis("dash-browser-sign-in").await;
    let admin = env.client().admin();
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let (user, password) = ("ops", "a-long-password-0123");
    let config = || serve_config(&["--basic-auth", &format!("{user}:{password}")]);
    let (base, server) = serve_on_loopback(config(), admin.clone()).await;
    // A chat app on another site, linking to the dashboard.
    let link = format!("<!doctype html><a id=to-dashboard href=\"{base}/queues\">dead jobs</a>");
    let chat = axum::Router::new().route(
        "/chat.html",
        axum::routing::get(move || {
            let page = link.clone();
            async move { axum::response::Html(page) }
        }),
    );
    let chat_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let chat_port = chat_listener.local_addr().unwrap().port();
    let chat_server = tokio::spawn(async move { axum::serve(chat_listener, chat).await });
    let (_driver, port) = start_driver();
    let (client, profile) =
        browser_session(port, &["--host-resolver-rules=MAP chat.test 127.0.0.1"]).await;

    // Not signed in: the queues page sends the browser to sign in.
    client.goto(&format!("{base}/queues")).await.unwrap();
    wait_for(&client, "#sign-in-form").await;
    assert_eq!(current_path(&client).await, "/login?next=%2Fqueues");
    shoot(&client, "sign-in").await;
    sign_in_with_form(&client, user, "wrong-password-0000").await;
    let error = wait_for(&client, "#sign-in-error")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(error, "Wrong user name or password.");
    sign_in_with_form(&client, user, password).await;

    // Signed in, on the page asked for: pause a queue and see it.
    wait_for(&client, "#queues-table").await;
    assert_eq!(current_path(&client).await, "/queues");
    let cookies = client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "jobqueue_session")
        .expect("the session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.secure(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    wait_for(
        &client,
        "tr[data-queue=\"default\"] form[action=\"/queues/default/pause\"] button",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for(&client, "tr[data-queue=\"default\"] .badge.warn").await;
    assert!(admin.queue("default").await.unwrap().paused);
    let actions = admin.audit_log(None, 10).await.unwrap();
    assert!(
        actions
            .iter()
            .any(|e| e.action == "pause" && e.actor == user)
    );

    // A link from another site: the browser leaves the SameSite=Strict
    // cookie out of that navigation, the dashboard reloads the page from
    // its own origin, and the signed-in user lands on it.
    client
        .goto(&format!("http://chat.test:{chat_port}/chat.html"))
        .await
        .unwrap();
    wait_for(&client, "#to-dashboard")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&client, "#queues-table").await;
    assert_eq!(current_path(&client).await, "/queues");
    chat_server.abort();

    // Sign out: back on the sign-in page, and the dashboard stays closed.
    wait_for(&client, "#sign-out").await.click().await.unwrap();
    wait_for(&client, "#sign-in-form").await;
    assert_eq!(current_path(&client).await, "/login");
    client.goto(&format!("{base}/queues")).await.unwrap();
    wait_for(&client, "#sign-in-form").await;
    assert_eq!(current_path(&client).await, "/login?next=%2Fqueues");
    server.abort();

    // A session left idle past its timeout ends.
    let (base, server) = serve_on_loopback(
        config().session_idle_timeout(Duration::from_secs(2)),
        admin.clone(),
    )
    .await;
    client.goto(&format!("{base}/")).await.unwrap();
    sign_in_with_form(&client, user, password).await;
    wait_for(&client, "#queues-table").await;
    assert_eq!(current_path(&client).await, "/");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    client.goto(&format!("{base}/cron")).await.unwrap();
    wait_for(&client, "#sign-out").await;
    assert_eq!(current_path(&client).await, "/cron", "still signed in");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    client.goto(&format!("{base}/workers")).await.unwrap();
    wait_for(&client, "#sign-in-form").await;
    assert_eq!(current_path(&client).await, "/login?next=%2Fworkers");

    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    server.abort();
}

/// A workflow's page in a real browser: the server-drawn graph loads as an
/// image (no script draws it), each node row links to its job, and the
/// list and the page are saved as screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_page_shows_its_graph_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let env = test_redis("dash-browser-wf").await;
    let client = env.client();
    let dying = jobqueue_integration::jobs::TestJob {
        permanent: true,
        ..env.test_job()
    };
    let id = client
        .workflow("nightly import")
        .node("fetch eu", client.job(NoopJob { n: 1 }))
        .node("fetch us", client.job(NoopJob { n: 2 }).queue("other"))
        .node("merge", client.job(dying).max_attempts(1))
        .node("publish", client.job(NoopJob { n: 3 }))
        .node("clean up", client.job(NoopJob { n: 4 }))
        .edge("fetch eu", "merge")
        .edge("fetch us", "merge")
        .edge_with("merge", "publish", jobqueue_core::OnParentFailure::Skip)
        .edge_with("merge", "clean up", jobqueue_core::OnParentFailure::Run)
        .enqueue()
        .await
        .unwrap();
    let worker = test_worker(&env)
        .queues(["default", "other"])
        .start()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            let status = client.workflow_status(id).await.unwrap();
            status.summary.state == jobqueue_core::WorkflowState::Failed
        })
        .await
    );
    worker.shutdown().await;

    let router = dashboard_router(
        client.admin(),
        DashboardConfig::behind_host_auth(Role::Operator),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let (_driver, port) = start_driver();
    let (browser, profile) = browser_session(port, &[]).await;

    browser.goto(&format!("{base}/workflows")).await.unwrap();
    wait_for(
        &browser,
        &format!("#workflows-table tr[data-workflow=\"{id}\"]"),
    )
    .await;
    shoot(&browser, "workflows").await;

    browser
        .goto(&format!("{base}/workflows/{id}"))
        .await
        .unwrap();
    wait_for(&browser, "#nodes-table tr[data-node=\"merge\"]").await;
    let graph_loaded = browser
        .execute(
            "const i = document.getElementById('workflow-graph'); return i.complete && i.naturalWidth > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        graph_loaded,
        serde_json::Value::Bool(true),
        "the graph image loaded"
    );
    let state = wait_for(&browser, "#workflow-state").await;
    assert_eq!(state.text().await.unwrap(), "failed");
    shoot(&browser, "workflow").await;

    // A node's row links to its job's page, which links back.
    let link = wait_for(&browser, "#nodes-table tr[data-node=\"merge\"] a").await;
    link.click().await.unwrap();
    wait_for(&browser, "#job-workflow").await;
    browser
        .find(Locator::Css("#job-workflow a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&browser, "#nodes-table").await;

    browser.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    server.abort();
}

/// Issue 16, live events: with a queue's events on, a job's page shows its
/// events as they happen (fed by Server-Sent Events) and reloads into its
/// new state; the history page lists the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_page_updates_live_from_the_event_stream() {
    if !browser_available() {
        return;
    }
    let env = test_redis("dash-browser-live").await;
    let client = env.client();
    let admin = client.admin();
    admin.set_event_stream("default", Some(1000)).await.unwrap();
    admin
        .set_history("default", Some(1000), None)
        .await
        .unwrap();
    let id = client
        .enqueue_in(Duration::from_secs(3600), NoopJob { n: 1 })
        .await
        .unwrap();
    let router = dashboard_router(
        admin.clone(),
        DashboardConfig::behind_host_auth(Role::Operator),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let (_driver, port) = start_driver();
    let (browser, profile) = browser_session(port, &[]).await;

    browser
        .goto(&format!("{base}/queues/default/job/{id}"))
        .await
        .unwrap();
    wait_for(&browser, "#live-events[data-on=\"true\"]").await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            browser
                .find(Locator::Css("#live-events-status"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                .starts_with("Live")
        })
        .await,
        "the page connected to the event stream"
    );
    // Run it now, elsewhere: the page shows it start and succeed, live.
    admin
        .retry("default", jobqueue_core::JobSet::Scheduled, &[id])
        .await
        .unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    let item = wait_for(&browser, "#live-events-list li[data-kind=\"succeeded\"]").await;
    assert!(item.text().await.unwrap().contains(&id.to_string()));
    assert!(
        browser
            .find(Locator::Css("#live-events-list li[data-kind=\"started\"]"))
            .await
            .is_ok()
    );
    shoot(&browser, "job-live-events").await;
    worker.shutdown().await;

    // The history page finds it.
    browser
        .goto(&format!("{base}/queues/default/history?job={id}"))
        .await
        .unwrap();
    let row = wait_for(&browser, "#history-results tbody tr").await;
    assert!(row.text().await.unwrap().contains("succeeded"));
    shoot(&browser, "history").await;
    browser.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    server.abort();
}
