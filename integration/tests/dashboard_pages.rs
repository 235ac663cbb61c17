//! The dashboard's pages and endpoints against real Redis: every page and
//! endpoint answers, error groups and bulk actions, pagination over 100,000
//! jobs, and the snapshot behind the overview and /metrics.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use jobqueue_integration::dashboard::{As, Dashboard, make_dead_jobs, operator_config};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{TestJobTraces, test_redis};
use jobqueue_testing::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_group_by_error_and_bulk_actions_apply_to_all_matching() {
    let env = test_redis("dash-groups").await;
    // 30 jobs die of one cause with varying details, 12 of another.
    let mut messages: Vec<String> = (0..30)
        .map(|i| format!("connection refused: db-{i}.internal:5432 (attempt {i})"))
        .collect();
    messages.extend((0..12).map(|i| format!("invalid address 'user{i}@example'")));
    make_dead_jobs(&env, &messages, "").await;
    let dash = Dashboard::new(&env, operator_config());

    let groups = dash
        .get("/api/v1/queues/default/groups", As::Reader)
        .await
        .json();
    assert_eq!(groups["exact"], true);
    let list = groups["groups"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{groups}");
    assert_eq!(list[0]["estimated_count"], 30);
    assert_eq!(list[1]["estimated_count"], 12);
    assert_eq!(list[0]["job_type"], "failing_job");
    let refused_fp = list[0]["fingerprint"].as_str().unwrap().to_owned();
    assert!(
        !dash
            .get("/queues/default/groups", As::Reader)
            .await
            .body
            .contains("Retry this group"),
        "readers get no buttons"
    );
    assert!(
        dash.get("/queues/default/groups", As::Browser)
            .await
            .body
            .contains("Retry this group")
    );

    // Filter by error text and by group.
    let filtered = dash
        .get(
            "/api/v1/queues/default/jobs/dead?error=INVALID%20address&limit=5",
            As::Reader,
        )
        .await
        .json();
    assert_eq!(filtered["jobs"].as_array().unwrap().len(), 5);
    let by_group = dash
        .get(
            &format!("/api/v1/queues/default/jobs/dead?fingerprint={refused_fp}&limit=100"),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(by_group["jobs"].as_array().unwrap().len(), 30);
    let by_type = dash
        .get("/api/v1/queues/default/jobs/dead?type=other", As::Reader)
        .await
        .json();
    assert_eq!(by_type["jobs"].as_array().unwrap().len(), 0);

    // "Retry this group" from the UI moves exactly that group.
    let token = dash.csrf_token(As::Browser).await;
    let reply = dash
        .send(
            Method::POST,
            &format!("/queues/default/groups/{refused_fp}/retry"),
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let info = env.client().admin().queue("default").await.unwrap();
    assert_eq!((info.dead, info.ready), (12, 30));

    // Select two by id in the list form, then delete all matching by API.
    let page = dash
        .get("/api/v1/queues/default/jobs/dead?limit=2", As::Reader)
        .await
        .json();
    let two: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    let form = format!("csrf={token}&action=retry&ids={}&ids={}", two[0], two[1]);
    let reply = dash
        .send(
            Method::POST,
            "/queues/default/jobs/dead/bulk",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            &form,
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        reply.headers["location"]
            .to_str()
            .unwrap()
            .contains("done=retry&n=2")
    );
    let deleted = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/jobs/dead/delete",
            As::Operator,
            &[],
            "{\"all_matching\":true,\"error\":\"invalid address\"}",
        )
        .await
        .json();
    assert_eq!(deleted["count"], 10);
    assert_eq!(env.client().admin().queue("default").await.unwrap().dead, 0);

    // Scheduled jobs can be run now.
    let later = env
        .client()
        .enqueue_in(Duration::from_secs(3600), NoopJob { n: 9 })
        .await
        .unwrap();
    let ran = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/jobs/scheduled/run",
            As::Operator,
            &[],
            &format!("{{\"ids\":[\"{later}\"]}}"),
        )
        .await
        .json();
    assert_eq!(
        (ran["action"].as_str(), ran["count"].as_u64()),
        (Some("run_now"), Some(1))
    );
    assert_eq!(
        env.client()
            .admin()
            .queue("default")
            .await
            .unwrap()
            .scheduled,
        0
    );

    let actions: Vec<String> = env
        .client()
        .admin()
        .audit_log(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.action, e.count))
        .collect();
    assert_eq!(actions, ["run_now 1", "delete 10", "retry 2", "retry 30"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_over_100000_jobs_stays_bounded() {
    let env = test_redis("dash-100k").await;
    const N: usize = 100_000;
    for chunk in (0..N as u64).collect::<Vec<_>>().chunks(20_000) {
        env.client()
            .enqueue_bulk(chunk.iter().map(|n| NoopJob { n: *n }))
            .await
            .unwrap();
    }
    let dash = Dashboard::new(&env, operator_config());

    // Walk every page of 1000 by cursor: all jobs, in run order, no repeats.
    let mut cursor = Some(0u64);
    let (mut seen, mut pages, mut last_n) = (0usize, 0, None::<u64>);
    while let Some(at) = cursor {
        let page = dash
            .get(
                &format!("/api/v1/queues/default/jobs/ready?cursor={at}&limit=5000"),
                As::Reader,
            )
            .await
            .json();
        let jobs = page["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 1000, "page size is capped at 1000");
        assert_eq!(page["total"], N as u64);
        for job in jobs {
            let payload: serde_json::Value =
                serde_json::from_str(job["payload"].as_str().unwrap()).unwrap();
            let n = payload["n"].as_u64().unwrap();
            assert_eq!(
                n,
                last_n.map_or(0, |l| l + 1),
                "FIFO order, no gaps or repeats"
            );
            last_n = Some(n);
        }
        seen += jobs.len();
        pages += 1;
        cursor = page["next_cursor"].as_u64();
    }
    assert_eq!((seen, pages), (N, 100));

    // A deep page costs the same as the first.
    let deep = dash
        .get(
            "/queues/default/jobs/ready?cursor=99990&limit=50",
            As::Reader,
        )
        .await;
    assert_eq!(deep.status, StatusCode::OK);
    assert_eq!(deep.body.matches("class=\"job-inline\"").count(), 10);
    assert!(!deep.body.contains("id=\"next-page\""));

    // A filter that matches nothing scans a bounded window and says where to go on.
    let filtered = dash
        .get("/api/v1/queues/default/jobs/ready?type=nothing", As::Reader)
        .await
        .json();
    assert_eq!(filtered["jobs"].as_array().unwrap().len(), 0);
    assert_eq!(filtered["scanned"], 5000);
    assert_eq!(filtered["next_cursor"], 5000);

    // The overview and metrics report the size without reading the jobs.
    let metrics = dash.get("/metrics", As::Reader).await.body;
    assert!(
        metrics.contains("jobqueue_jobs_ready{queue=\"default\"} 100000"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_endpoint_answers() {
    let env = test_redis("dash-pages").await;
    let ids = make_dead_jobs(&env, &["boom 1".to_owned(), "boom 2".to_owned()], "n").await;
    env.client()
        .enqueue_in(Duration::from_secs(600), NoopJob { n: 1 })
        .await
        .unwrap();
    env.client().enqueue(NoopJob { n: 2 }).await.unwrap();
    let worker = jobqueue_integration::test_worker(&env)
        .queues(["other"])
        .start()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    assert!(
        eventually(Duration::from_secs(10), || async {
            !env.client().admin().workers().await.unwrap().is_empty()
        })
        .await
    );

    let html_pages = [
        "/",
        "/queues",
        "/queues/default/confirm-purge",
        "/workers",
        "/workers?cursor=1&limit=1",
        "/audit",
        "/queues/default/jobs/ready",
        "/queues/default/jobs/scheduled",
        "/queues/default/jobs/retry",
        "/queues/default/jobs/dead",
        "/queues/default/jobs/active",
        "/queues/default/groups",
    ];
    for path in html_pages {
        let reply = dash.get(path, As::Browser).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(
            reply.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(reply.body.contains("name=\"csrf-token\""), "{path}");
    }
    let overview = dash.get("/", As::Browser).await.body;
    assert!(overview.contains("id=\"queues-table\"") && overview.contains("id=\"chart-hour\""));
    let workers = dash.get("/workers", As::Browser).await.body;
    assert!(workers.contains("id=\"workers-table\""), "{workers}");
    // The worker serves `other` and watches its ready list when idle.
    assert!(
        workers.contains("<th title=\"Queues whose ready list it waits on when idle: a push reaches it in one hop\">Watches</th>")
            && workers.contains("<td>other</td><td>other</td>"),
        "{workers}"
    );
    let job = dash
        .get(&format!("/queues/default/job/{}", ids[0]), As::Browser)
        .await
        .body;
    assert!(job.contains("failing_job") && job.contains("id=\"retry-job\""));

    for (path, content_type) in [
        ("/charts/minutes", "image/svg+xml"),
        ("/charts/days", "image/svg+xml"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/metrics", "text/plain; version=0.0.4; charset=utf-8"),
        ("/api/v1/openapi.json", "application/json"),
    ] {
        let reply = dash.get(path, As::Reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.headers["content-type"], content_type, "{path}");
    }
    assert!(
        dash.get("/charts/minutes", As::Reader)
            .await
            .body
            .starts_with("<svg")
    );

    let json_endpoints = [
        "/api/v1/stats",
        "/api/v1/queues",
        "/api/v1/queues/default",
        "/api/v1/history/minutes?count=60",
        "/api/v1/history/days",
        "/api/v1/queues/default/jobs/dead",
        "/api/v1/queues/default/jobs/scheduled",
        "/api/v1/queues/default/jobs/ready",
        "/api/v1/queues/default/jobs/active",
        "/api/v1/queues/default/jobs/retrying",
        "/api/v1/queues/default/groups",
        "/api/v1/queues/default/weights",
        "/api/v1/queues/default/keys/waits",
        "/api/v1/workers",
        "/api/v1/audit",
    ];
    for path in json_endpoints {
        let reply = dash.get(path, As::Reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        reply.json();
    }
    let stats = dash.get("/api/v1/stats", As::Reader).await.json();
    assert_eq!(stats["workers"].as_array().unwrap().len(), 1);
    assert_eq!(
        dash.get("/api/v1/history/minutes?count=1000", As::Reader)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        120
    );
    assert_eq!(
        dash.get(&format!("/api/v1/jobs/{}", ids[1]), As::Reader)
            .await
            .json()["state"],
        "dead"
    );

    // The OpenAPI document describes every API route.
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    for path in [
        "/api/v1/stats",
        "/api/v1/history/{resolution}",
        "/api/v1/queues",
        "/api/v1/queues/{queue}",
        "/api/v1/queues/{queue}/{action}",
        "/api/v1/queues/{queue}/jobs/{state}",
        "/api/v1/queues/{queue}/jobs/{state}/{action}",
        "/api/v1/queues/{queue}/groups",
        "/api/v1/queues/{queue}/job/{id}",
        "/api/v1/jobs/{id}",
        "/api/v1/workers",
        "/api/v1/audit",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }

    // Purge through the confirmation page's form.
    let token = dash.csrf_token(As::Browser).await;
    let purged = dash
        .send(
            Method::POST,
            "/queues/default/purge",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(purged.status, StatusCode::SEE_OTHER);
    assert_eq!(
        env.client().admin().queue("default").await.unwrap().ready,
        0
    );
    assert_eq!(
        env.client().admin().queue("default").await.unwrap().dead,
        2,
        "purge leaves dead jobs"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_come_from_a_snapshot_refreshed_at_most_every_max_age() {
    let env = test_redis("dash-metrics").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let line = |body: &str| {
        body.lines()
            .find(|l| l.starts_with("jobqueue_jobs_ready{queue=\"default\"}"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_eq!(
        line(&dash.get("/metrics", As::Reader).await.body),
        "jobqueue_jobs_ready{queue=\"default\"} 1"
    );
    env.client().enqueue(NoopJob { n: 2 }).await.unwrap();
    // Within the max age (1 s), scrapes are served from the same snapshot.
    assert_eq!(
        line(&dash.get("/metrics", As::Reader).await.body),
        "jobqueue_jobs_ready{queue=\"default\"} 1"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        line(&dash.get("/metrics", As::Reader).await.body),
        "jobqueue_jobs_ready{queue=\"default\"} 2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_rates_come_from_successive_snapshots() {
    let env = test_redis("dash-rates").await;
    let dash = Dashboard::new(&env, operator_config());
    env.client().enqueue(NoopJob { n: 0 }).await.unwrap();
    let first = dash.get("/api/v1/stats", As::Reader).await.json();
    assert_eq!(first["processed_per_second"], 0.0);
    env.client()
        .enqueue_bulk((0..500).map(|n| NoopJob { n }))
        .await
        .unwrap();
    let worker = jobqueue_integration::test_worker(&env)
        .start()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            env.client().admin().totals().await.unwrap().processed >= 501
        })
        .await
    );
    worker.shutdown().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = dash.get("/api/v1/stats", As::Reader).await.json();
    assert!(
        second["processed_per_second"].as_f64().unwrap() > 0.0,
        "{second}"
    );
    assert!(
        second["queue_rates"]["default"].as_f64().unwrap() > 0.0,
        "{second}"
    );
    let page = dash.get("/queues", As::Reader).await.body;
    assert!(page.contains("data-f=\"rate\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_page_shows_what_each_worker_runs_now() {
    let env = test_redis("dash-running").await;
    let mut job = env.test_job();
    job.sleep_ms = 4000;
    let id = env.client().enqueue(job).await.unwrap();
    let worker = jobqueue_integration::test_worker(&env)
        .start()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let running = loop {
        let running = dash.get("/api/v1/workers", As::Reader).await.json()[0]["running"].clone();
        if running.as_array().is_some_and(|r| !r.is_empty()) {
            break running;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the running job never showed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(running[0]["id"], id.to_string());
    assert_eq!(running[0]["job_type"], "test_job");
    assert_eq!(running[0]["queue"], "default");
    let page = dash.get("/workers", As::Reader).await.body;
    assert!(
        page.contains("Running now") && page.contains(&id.to_string()),
        "{page}"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_queue_name_in_the_registry_is_skipped_not_fatal() {
    let env = test_redis("dash-badname").await;
    let id = env
        .client()
        .enqueue_in(Duration::from_secs(600), NoopJob { n: 1 })
        .await
        .unwrap();
    // Producers in other languages write the registry directly; one wrote
    // names jobqueue never accepts (a space, markup, bytes that are not UTF-8).
    let mut redis = env.connection().await.unwrap();
    let registry = format!("{}:queues", env.prefix());
    let _: () = redis::cmd("SADD")
        .arg(&registry)
        .arg("bad name!")
        .arg("<b>x</b>")
        .arg(&b"\xff\xfe"[..])
        .query_async(&mut redis)
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    for path in [
        "/",
        "/queues",
        "/cron",
        "/metrics",
        "/api/v1/stats",
        "/api/v1/queues",
        "/api/v1/cron",
        &format!("/api/v1/jobs/{id}"),
    ] {
        let reply = dash.get(path, As::Reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let queues = dash.get("/api/v1/queues", As::Reader).await.json();
    let names: Vec<&str> = queues
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default"], "the valid queue is still listed");
    let metrics = dash.get("/metrics", As::Reader).await.body;
    assert!(
        metrics.contains("jobqueue_jobs_scheduled{queue=\"default\"} 1")
            && metrics.contains("\njobqueue_invalid_queue_names 3\n"),
        "{metrics}"
    );
    // The pages say what was skipped, escaped.
    for path in ["/", "/queues"] {
        let page = dash.get(path, As::Reader).await.body;
        assert!(
            page.contains("id=\"invalid-queue-names\""),
            "{path}: {page}"
        );
        assert!(
            page.contains("bad name!") && page.contains("&lt;b&gt;x&lt;/b&gt;"),
            "{path}: {page}"
        );
        assert!(!page.contains("<b>x</b>"), "{path} leaks markup");
    }
    let stats = dash.get("/api/v1/stats", As::Reader).await.json();
    assert_eq!(stats["invalid_queue_names"].as_array().unwrap().len(), 3);
}

/// Issue 12, point 5: Unicode bidirectional controls and other invisible
/// characters in job data are shown as visible escapes, never applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidi_controls_in_job_data_are_shown_escaped() {
    let env = test_redis("dash-bidi").await;
    // U+202E shows "invoice_\u{202E}fdp.exe" as "invoice_exe.pdf".
    let error = "attachment invoice_\u{202E}fdp.exe rejected";
    let ids = make_dead_jobs(
        &env,
        &[error.to_owned()],
        "note \u{2066}isolated\u{2069} \u{200F}",
    )
    .await;
    let dash = Dashboard::new(&env, operator_config());
    for path in [
        format!("/queues/default/job/{}", ids[0]),
        "/queues/default/jobs/dead".to_owned(),
        "/queues/default/groups".to_owned(),
    ] {
        let page = dash.get(&path, As::Browser).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for hidden in ['\u{202E}', '\u{2066}', '\u{2069}', '\u{200F}'] {
            assert!(
                !page.body.contains(hidden),
                "{path} applies U+{:04X}",
                u32::from(hidden)
            );
        }
        assert!(
            page.body.contains(
                "<span class=\"hidden-char\" title=\"hidden character U+202E\">\\u{202E}</span>"
            ),
            "{path} shows U+202E escaped:\n{}",
            page.body
        );
    }
    let job = dash
        .get(&format!("/queues/default/job/{}", ids[0]), As::Browser)
        .await
        .body;
    assert!(
        job.contains(">\\u{2066}</span>isolated<") && job.contains(">\\u{200F}</span>"),
        "{job}"
    );
    // The JSON API returns the data as it is.
    let json = dash
        .get(
            &format!("/api/v1/queues/default/job/{}", ids[0]),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(json["errors"][0]["message"], error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_jobs_page_shows_its_type_and_payload_escaped() {
    use jobqueue_integration::probe::ProbeJob;
    let env = test_redis("dash-running-job").await;
    let worker = jobqueue_integration::test_worker(&env)
        .start()
        .await
        .unwrap();
    let hostile = "<script>alert('x')</script>";
    let job = ProbeJob {
        hold_ms: 30_000,
        progress: Some((20, hostile.to_owned())),
        ..ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()))
    };
    let id = env.client().job(job).track().enqueue().await.unwrap();
    let client = env.client();
    assert!(
        eventually(Duration::from_secs(10), || async {
            client
                .status(id)
                .await
                .unwrap()
                .is_some_and(|s| s.progress.is_some())
        })
        .await
    );
    let dash = Dashboard::new(&env, operator_config());

    let page = dash
        .get(&format!("/queues/default/job/{id}"), As::Browser)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("probe_job"), "no type: {}", page.body);
    assert!(
        page.body.contains(r#"id="payload""#),
        "no payload: {}",
        page.body
    );
    assert!(
        page.body.contains("hold_ms"),
        "payload not shown: {}",
        page.body
    );
    assert!(
        page.body.contains(">active<"),
        "state not shown: {}",
        page.body
    );
    assert!(
        page.body.contains("&lt;script&gt;"),
        "not escaped: {}",
        page.body
    );
    assert!(!page.body.contains(hostile), "hostile text unescaped");
    assert!(
        page.body.contains("cancel-job"),
        "running job has a cancel button"
    );

    let api = dash
        .get(&format!("/api/v1/queues/default/job/{id}"), As::Reader)
        .await
        .json();
    assert_eq!(api["state"], "active");
    assert_eq!(api["job_type"], "probe_job");
    assert!(api["payload"].as_str().unwrap().contains("hold_ms"));
    assert_eq!(api["status"]["state"], "running");

    client.cancel("default", id).await.unwrap();
    worker.shutdown().await;
}
