//! The flow-control features in the dashboard and the JSON API, against
//! real Redis and real workers: cron entries (page, list, pause, resume,
//! run now, remove), cancelling waiting and running jobs, cancelled and
//! expired jobs as listable states, queue flow limits, and a job's status
//! (progress and result). Roles, CSRF and bad input are checked for each
//! new action.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use jobqueue_core::cron::CronEntry;
use jobqueue_core::{JobStatusState, QueueLimits, RateLimit};
use jobqueue_integration::dashboard::{As, Dashboard, Reply, audit_actions, operator_config};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::probe::ProbeJob;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::{TestRedis, eventually};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn probe(env: &TestRedis) -> ProbeJob {
    ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()))
}

/// Sends a JSON API request as `who` (no CSRF token: bearer callers need none).
async fn api(dash: &Dashboard, method: Method, path: &str, who: As, body: &str) -> Reply {
    dash.send(method, path, who, &[], body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_entries_are_listed_and_operated_from_page_and_api() {
    let env = test_redis("dash-cron").await;
    let admin = env.client().admin();
    // A yearly entry (never due during the test) and one that fails, both
    // registered by a real worker.
    let failing = ProbeJob {
        fail: Some("upstream <b>said</b> no".into()),
        ..probe(&env)
    };
    let worker = test_worker(&env)
        .cron_entry(
            CronEntry::new("new-year", "0 0 0 1 1 *", &NoopJob { n: 1 })
                .unwrap()
                .time_zone("Europe/Berlin")
                .unwrap(),
        )
        .cron_entry(CronEntry::new("failing", "0 0 0 1 1 *", &failing).unwrap())
        .start()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.cron_entries().await.unwrap().len() == 2
        })
        .await
    );
    let dash = Dashboard::new(&env, operator_config());

    let entries = dash.get("/api/v1/cron", As::Reader).await.json();
    let names: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["failing", "new-year"]);
    let new_year = &entries[1];
    assert_eq!(new_year["queue"], "default");
    assert_eq!(new_year["schedule"], "0 0 0 1 1 *");
    assert_eq!(new_year["time_zone"], "Europe/Berlin");
    assert_eq!(new_year["job_type"], "noop");
    assert!(new_year["next_run"].is_string() && new_year["paused_at"].is_null());

    // The page: every entry, buttons for operators only.
    let page = dash.get("/cron", As::Browser).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"cron-table\""), "{}", page.body);
    assert!(page.body.contains("data-cron=\"default/new-year\""));
    assert!(page.body.contains("Europe/Berlin") && page.body.contains("cron-pause"));
    let read_only = dash.get("/cron", As::Reader).await.body;
    assert!(read_only.contains("new-year") && !read_only.contains("cron-pause"));

    // Run now from the API: an extra run whose failure shows on the page,
    // escaped.
    let ran = api(
        &dash,
        Method::POST,
        "/api/v1/cron/default/failing/run",
        As::Operator,
        "",
    )
    .await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    let ran = ran.json();
    assert_eq!(ran["action"], "cron_run");
    let run_id = ran["job_id"].as_str().unwrap().to_owned();
    assert!(
        eventually(Duration::from_secs(15), || async {
            let entries = dash.get("/api/v1/cron", As::Reader).await.json();
            entries[0]["last_result"]["job_id"] == run_id.as_str()
                && entries[0]["last_result"]["outcome"] == "dead"
        })
        .await,
        "the run's death was not recorded"
    );
    let page = dash.get("/cron", As::Browser).await.body;
    assert!(
        page.contains("upstream &lt;b&gt;said&lt;/b&gt; no") && page.contains("badge dead"),
        "{page}"
    );

    // No GET changes anything.
    for path in [
        "/api/v1/cron/default/new-year/pause",
        "/cron/default/new-year/pause",
        "/api/v1/cron/default/new-year/remove",
    ] {
        let reply = dash.get(path, As::Operator).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    assert!(
        admin
            .cron_entry("default", "new-year")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_none()
    );

    // Pause from the page's form (CSRF required), resume from the API.
    let no_token = dash
        .send(
            Method::POST,
            "/cron/default/new-year/pause",
            As::Browser,
            &[FORM],
            "",
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let paused = dash.post_form("/cron/default/new-year/pause", "").await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    assert!(
        paused.headers["location"]
            .to_str()
            .unwrap()
            .ends_with("/cron?done=cron_pause&n=0")
    );
    let info = admin
        .cron_entry("default", "new-year")
        .await
        .unwrap()
        .unwrap();
    assert!(info.paused_at.is_some() && info.next_run.is_none());
    let page = dash
        .get("/cron?done=cron_pause&n=0", As::Browser)
        .await
        .body;
    assert!(page.contains("Cron entry paused.") && page.contains("cron-resume"));
    let resumed = api(
        &dash,
        Method::POST,
        "/api/v1/cron/default/new-year/resume",
        As::Operator,
        "",
    )
    .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert!(
        admin
            .cron_entry("default", "new-year")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_none()
    );

    // Refused: read-only, browser without CSRF, unknown action/entry, bad name.
    for (path, who, want) in [
        (
            "/api/v1/cron/default/new-year/pause",
            As::Reader,
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/v1/cron/default/new-year/pause",
            As::Browser,
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/v1/cron/default/new-year/explode",
            As::Operator,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/cron/default/nope/pause",
            As::Operator,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/cron/default/nope/run",
            As::Operator,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/cron/bad%20queue/new-year/pause",
            As::Operator,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = api(&dash, Method::POST, path, who, "").await;
        assert_eq!(reply.status, want, "{path}: {}", reply.body);
        assert!(reply.json()["error"].is_string(), "{path}");
    }
    assert!(
        admin
            .cron_entry("default", "new-year")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_none(),
        "refused requests changed nothing"
    );

    // Remove (after the worker that registers it stopped, or it comes back).
    worker.shutdown().await;
    let removed = api(
        &dash,
        Method::POST,
        "/api/v1/cron/default/new-year/remove",
        As::Operator,
        "",
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK);
    let again = api(
        &dash,
        Method::POST,
        "/api/v1/cron/default/new-year/remove",
        As::Operator,
        "",
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        dash.get("/api/v1/cron", As::Reader)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let audit = audit_actions(&env, 4).await;
    assert_eq!(audit[0], "cron_remove default/new-year");
    assert_eq!(audit[1], "cron_resume default/new-year");
    assert_eq!(audit[2], "cron_pause default/new-year");
    assert!(
        audit[3].starts_with("cron_run default/failing "),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_and_running_jobs_are_cancelled_and_listed() {
    let env = test_redis("dash-cancel").await;
    let client = &env.client();
    let admin = client.admin();
    let dash = Dashboard::new(&env, operator_config());
    let scheduled = client
        .enqueue_in(Duration::from_secs(3600), probe(&env))
        .await
        .unwrap();
    let ready = client.enqueue(NoopJob { n: 1 }).await.unwrap();

    // The job page of a scheduled job offers Cancel (operators only).
    let page = dash
        .get(&format!("/queues/default/job/{scheduled}"), As::Browser)
        .await
        .body;
    assert!(page.contains("id=\"cancel-job\""), "{page}");
    assert!(
        !dash
            .get(&format!("/queues/default/job/{scheduled}"), As::Reader)
            .await
            .body
            .contains("id=\"cancel-job\"")
    );
    // A ready job's inline details offer it too.
    let list = dash
        .get("/queues/default/jobs/ready", As::Browser)
        .await
        .body;
    assert!(
        list.contains(&format!("/queues/default/job/{ready}/cancel")),
        "{list}"
    );

    // Refused: GET, read-only, no CSRF, bad id, unknown queue.
    let get = dash
        .get(
            &format!("/api/v1/queues/default/job/{scheduled}/cancel"),
            As::Operator,
        )
        .await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    let path = format!("/api/v1/queues/default/job/{scheduled}/cancel");
    for (path, who, want) in [
        (path.as_str(), As::Reader, StatusCode::FORBIDDEN),
        (path.as_str(), As::Browser, StatusCode::FORBIDDEN),
        (
            "/api/v1/queues/default/job/not-a-uuid/cancel",
            As::Operator,
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("/api/v1/queues/nope/job/{scheduled}/cancel"),
            As::Operator,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let reply = api(&dash, Method::POST, path, who, "").await;
        assert_eq!(reply.status, want, "{path}: {}", reply.body);
    }
    assert_eq!(admin.queue("default").await.unwrap().scheduled, 1);

    // The API cancels the scheduled job; the form cancels the ready one.
    let cancelled = api(&dash, Method::POST, &path, As::Operator, "").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let cancelled = cancelled.json();
    assert_eq!(
        (cancelled["action"].as_str(), cancelled["from"].as_str()),
        (Some("cancel"), Some("scheduled"))
    );
    let again = api(&dash, Method::POST, &path, As::Operator, "").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "already cancelled");
    let by_form = dash
        .post_form(&format!("/queues/default/job/{ready}/cancel"), "")
        .await;
    assert_eq!(by_form.status, StatusCode::SEE_OTHER, "{}", by_form.body);
    let location = by_form.headers["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with(&format!("/queues/default/job/{ready}?done=cancel&n=1")));
    let job_page = dash.get(&location, As::Browser).await.body;
    assert!(job_page.contains("Job cancelled") && job_page.contains(">cancelled<"));
    assert!(!job_page.contains("id=\"cancel-job\"") && !job_page.contains("id=\"retry-job\""));

    // A job that expires before any worker starts it, and a running job
    // whose token fires in the worker when it is cancelled.
    let expiring = client
        .job(NoopJob { n: 2 })
        .expires_in(Duration::from_millis(200))
        .enqueue()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let held = client
        .enqueue(ProbeJob {
            hold_ms: 20_000,
            ..probe(&env)
        })
        .await
        .unwrap();
    let worker = test_worker(&env).start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            admin.queue("default").await.unwrap().active == 1
        })
        .await
    );
    // The workers page offers Cancel beside each running job.
    let cancel_path = format!("/queues/default/job/{held}/cancel");
    assert!(
        dash.get("/workers", As::Browser)
            .await
            .body
            .contains(&cancel_path)
    );
    assert!(
        !dash
            .get("/workers", As::Reader)
            .await
            .body
            .contains(&cancel_path)
    );
    let running = api(
        &dash,
        Method::POST,
        &format!("/api/v1/queues/default/job/{held}/cancel"),
        As::Operator,
        "",
    )
    .await
    .json();
    assert_eq!(running["from"], "active");
    assert!(
        eventually(Duration::from_secs(5), || async {
            admin.queue("default").await.unwrap().active == 0
        })
        .await,
        "the cancelled job kept running"
    );
    worker.shutdown().await;

    // Cancelled and expired jobs are states: listed (newest first),
    // counted on the queue pages, shown by id, not retryable.
    let info = dash.get("/api/v1/queues/default", As::Reader).await.json();
    assert_eq!(
        (info["cancelled"].as_u64(), info["expired"].as_u64()),
        (Some(3), Some(1))
    );
    let listed = dash
        .get("/api/v1/queues/default/jobs/cancelled", As::Reader)
        .await
        .json();
    let ids: Vec<String> = listed["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [held.to_string(), ready.to_string(), scheduled.to_string()]
    );
    assert_eq!(listed["jobs"][0]["state"], "cancelled");
    let expired = dash
        .get("/api/v1/queues/default/jobs/expired", As::Reader)
        .await
        .json();
    assert_eq!(expired["total"], 1);
    assert_eq!(expired["jobs"][0]["id"], expiring.to_string());
    let one = dash
        .get(&format!("/api/v1/jobs/{expiring}"), As::Reader)
        .await
        .json();
    assert_eq!(one["state"], "expired");
    let tabs = dash
        .get("/queues/default/jobs/cancelled", As::Browser)
        .await
        .body;
    assert!(
        tabs.contains("cancelled <span class=\"count\">3</span>"),
        "{tabs}"
    );
    assert!(tabs.contains("expired <span class=\"count\">1</span>"));
    assert!(tabs.contains(&held.to_string()[24..]));
    let queues = dash.get("/queues", As::Browser).await.body;
    assert!(queues.contains("data-f=\"cancelled\"") && queues.contains("/jobs/expired"));
    // /metrics serves a snapshot at most 1 s old (operator_config).
    assert!(
        eventually(Duration::from_secs(5), || async {
            let metrics = dash.get("/metrics", As::Reader).await.body;
            metrics.contains("jobqueue_jobs_cancelled{queue=\"default\"} 3")
                && metrics.contains("jobqueue_jobs_expired{queue=\"default\"} 1")
        })
        .await,
        "{}",
        dash.get("/metrics", As::Reader).await.body
    );
    let retry = api(
        &dash,
        Method::POST,
        "/api/v1/queues/default/jobs/cancelled/retry",
        As::Operator,
        &format!("{{\"ids\":[\"{held}\"]}}"),
    )
    .await;
    assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.body);
    let retry_page = dash
        .post_form(&format!("/queues/default/job/{held}/retry"), "")
        .await;
    assert_eq!(retry_page.status, StatusCode::CONFLICT);

    let audit = audit_actions(&env, 3).await;
    assert_eq!(
        audit,
        [
            format!("cancel default {held}"),
            format!("cancel default {ready}"),
            format!("cancel default {scheduled}"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_limits_are_shown_set_and_cleared() {
    let env = test_redis("dash-limits").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let admin = env.client().admin();
    let dash = Dashboard::new(&env, operator_config());
    let path = "/api/v1/queues/default/limits";

    let none = dash.get(path, As::Reader).await.json();
    assert_eq!(
        none,
        serde_json::json!({ "max_running": null, "rate": null })
    );
    assert!(
        dash.get("/queues/default/jobs/ready", As::Reader)
            .await
            .body
            .contains("Flow limits: none")
    );

    // Set by the API.
    let set = api(
        &dash,
        Method::PUT,
        path,
        As::Operator,
        r#"{"max_running": 3, "rate": {"limit": 10, "per_ms": 1000}}"#,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        admin.queue_limits("default").await.unwrap(),
        QueueLimits {
            max_running: Some(3),
            rate: Some(RateLimit::bucket(10, Duration::from_secs(1))),
        }
    );
    assert_eq!(
        dash.get(path, As::Reader).await.json()["rate"]["per_ms"],
        1000
    );
    let queue_page = dash
        .get("/queues/default/jobs/ready", As::Browser)
        .await
        .body;
    assert!(
        queue_page.contains("at most 3 running · 10 per 1s"),
        "{queue_page}"
    );
    let limits_page = dash.get("/queues/default/limits", As::Browser).await.body;
    assert!(limits_page.contains("id=\"limits-form\"") && limits_page.contains("value=\"10/1s\""));
    assert!(
        !dash
            .get("/queues/default/limits", As::Reader)
            .await
            .body
            .contains("limits-form")
    );

    // Set by the page's form: an empty field is no limit.
    let form = dash
        .post_form("/queues/default/limits", "max_running=&rate=100%2F500ms")
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    let limits = admin.queue_limits("default").await.unwrap();
    assert_eq!(limits.max_running, None);
    assert_eq!(
        limits.rate,
        Some(RateLimit::bucket(100, Duration::from_millis(500)))
    );

    // A strict (sliding-window) rate, by the form and by the API.
    let form = dash
        .post_form("/queues/default/limits", "max_running=&rate=50%2F1s+strict")
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    assert_eq!(
        admin.queue_limits("default").await.unwrap().rate,
        Some(RateLimit::strict(50, Duration::from_secs(1)))
    );
    let limits_page = dash.get("/queues/default/limits", As::Browser).await.body;
    assert!(
        limits_page.contains("50 per 1s (strict)")
            && limits_page.contains("value=\"50/1s strict\""),
        "{limits_page}"
    );
    let strict = api(
        &dash,
        Method::PUT,
        path,
        As::Operator,
        r#"{"rate": {"limit": 5, "per_ms": 2000, "mode": "strict"}}"#,
    )
    .await;
    assert_eq!(strict.status, StatusCode::OK, "{}", strict.body);
    assert_eq!(
        dash.get(path, As::Reader).await.json()["rate"],
        serde_json::json!({"limit": 5, "per_ms": 2000, "mode": "strict"})
    );
    let limits = admin.queue_limits("default").await.unwrap();
    assert_eq!(
        limits.rate,
        Some(RateLimit::strict(5, Duration::from_secs(2)))
    );

    // Refused, changing nothing.
    for (method, who, body, want) in [
        (
            Method::PUT,
            As::Reader,
            r#"{"max_running": 1}"#,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PUT,
            As::Browser,
            r#"{"max_running": 1}"#,
            StatusCode::FORBIDDEN,
        ),
        (Method::DELETE, As::Reader, "", StatusCode::FORBIDDEN),
        (
            Method::PUT,
            As::Operator,
            r#"{"max_running": 0}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            As::Operator,
            r#"{"max_running": -1}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            As::Operator,
            r#"{"rate": {"limit": 0, "per_ms": 1000}}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            As::Operator,
            r#"{"rate": {"limit": 5}}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            As::Operator,
            r#"{"rate": {"limit": 5, "per_ms": 1000, "mode": "fast"}}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            As::Operator,
            r#"{"concurrency": 5}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            As::Operator,
            "not json",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = api(&dash, method.clone(), path, who, body).await;
        assert_eq!(reply.status, want, "{method} {body}: {}", reply.body);
        assert!(reply.json()["error"].is_string());
    }
    for fields in [
        "max_running=abc",
        "max_running=0",
        "rate=fast",
        "rate=5%2F0s",
    ] {
        let reply = dash.post_form("/queues/default/limits", fields).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{fields}: {}",
            reply.body
        );
    }
    let unknown = api(
        &dash,
        Method::PUT,
        "/api/v1/queues/nope/limits",
        As::Operator,
        "{}",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.queue_limits("default").await.unwrap(), limits);

    // Cleared by the API, then by the form.
    let cleared = api(&dash, Method::DELETE, path, As::Operator, "").await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert!(admin.queue_limits("default").await.unwrap().is_unlimited());
    api(
        &dash,
        Method::PUT,
        path,
        As::Operator,
        r#"{"max_running": 2}"#,
    )
    .await;
    let cleared = dash.post_form("/queues/default/limits/clear", "").await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert!(admin.queue_limits("default").await.unwrap().is_unlimited());

    let audit = audit_actions(&env, 7).await;
    assert_eq!(
        audit,
        [
            "clear_limits default none",
            "set_limits default at most 2 running",
            "clear_limits default none",
            "set_limits default 5 per 2s (strict)",
            "set_limits default 50 per 1s (strict)",
            "set_limits default 100 per 500ms",
            "set_limits default at most 3 running · 10 per 1s",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_page_and_api_show_progress_and_result() {
    let env = test_redis("dash-status").await;
    let client = &env.client();
    let dash = Dashboard::new(&env, operator_config());
    let worker = test_worker(&env).start().await.unwrap();
    // One succeeds with a result; one reports progress, then dies.
    let done = client
        .enqueue(ProbeJob {
            progress: Some((100, "all rows".into())),
            result: Some(serde_json::json!({ "rows": 42, "note": "<i>x</i>" })),
            ..probe(&env)
        })
        .await
        .unwrap();
    let dying = client
        .enqueue(ProbeJob {
            progress: Some((40, "step <2> of 5".into())),
            fail: Some("disk full".into()),
            ..probe(&env)
        })
        .await
        .unwrap();
    let slow = client
        .enqueue(ProbeJob {
            hold_ms: 20_000,
            progress: Some((10, "warming up".into())),
            ..probe(&env)
        })
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || async {
            let done = client.status(done).await.unwrap();
            let dying = client.status(dying).await.unwrap();
            let slow = client.status(slow).await.unwrap();
            done.is_some_and(|s| s.state == JobStatusState::Succeeded)
                && dying.is_some_and(|s| s.state == JobStatusState::Dead)
                && slow.is_some_and(|s| s.state == JobStatusState::Running)
        })
        .await
    );

    // A running job's page is its status, with Cancel; cancelled, the page
    // shows its record in the cancelled set and the final status.
    let page = dash
        .get(&format!("/queues/default/job/{slow}"), As::Browser)
        .await
        .body;
    assert!(
        page.contains("warming up") && page.contains("id=\"cancel-job\""),
        "{page}"
    );
    let cancelled = dash
        .post_form(&format!("/queues/default/job/{slow}/cancel"), "")
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.body
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            client
                .status(slow)
                .await
                .unwrap()
                .is_some_and(|s| s.state == JobStatusState::Cancelled)
        })
        .await
    );
    let page = dash
        .get(&format!("/queues/default/job/{slow}"), As::Browser)
        .await
        .body;
    assert!(
        page.contains("id=\"job-state\" class=\"badge cancelled\"")
            && page.contains("id=\"status-state\" class=\"badge cancelled\""),
        "{page}"
    );
    worker.shutdown().await;

    // The dead job: its page and API show the status beside the record.
    let job = dash
        .get(&format!("/api/v1/queues/default/job/{dying}"), As::Reader)
        .await
        .json();
    assert_eq!(job["state"], "dead");
    assert_eq!(job["status"]["state"], "dead");
    assert_eq!(job["status"]["progress"]["percent"], 40);
    assert_eq!(job["status"]["progress"]["message"], "step <2> of 5");
    let found = dash
        .get(&format!("/api/v1/jobs/{dying}"), As::Reader)
        .await
        .json();
    assert_eq!(found["status"]["error"], job["status"]["error"]);
    let page = dash
        .get(&format!("/queues/default/job/{dying}"), As::Browser)
        .await
        .body;
    assert!(
        page.contains("id=\"job-status\"") && page.contains("<progress max=\"100\" value=\"40\">"),
        "{page}"
    );
    assert!(page.contains("step &lt;2&gt; of 5"));

    // The finished job has no record left, but its status and result show.
    let status = dash
        .get(&format!("/api/v1/jobs/{done}/status"), As::Reader)
        .await
        .json();
    assert_eq!(status["state"], "succeeded");
    assert_eq!(status["result"]["rows"], 42);
    let page = dash
        .get(&format!("/queues/default/job/{done}"), As::Browser)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"job-result\"") && page.body.contains("&lt;i&gt;x&lt;/i&gt;"),
        "{}",
        page.body
    );
    assert_eq!(
        dash.get(&format!("/api/v1/queues/default/job/{done}"), As::Reader)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the JSON job endpoint is for stored records"
    );

    // Without a status: none in the job's JSON, 404 for the status, 400 for a bad id.
    let plain = client
        .enqueue_in(Duration::from_secs(600), NoopJob { n: 1 })
        .await
        .unwrap();
    let job = dash
        .get(&format!("/api/v1/jobs/{plain}"), As::Reader)
        .await
        .json();
    assert!(job["status"].is_null());
    assert_eq!(
        dash.get(&format!("/api/v1/jobs/{plain}/status"), As::Reader)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        dash.get("/api/v1/jobs/xyz/status", As::Reader).await.status,
        StatusCode::BAD_REQUEST
    );

    // The OpenAPI document describes the new routes.
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    for path in [
        "/api/v1/cron",
        "/api/v1/cron/{queue}/{name}/{action}",
        "/api/v1/queues/{queue}/job/{id}/cancel",
        "/api/v1/queues/{queue}/limits",
        "/api/v1/jobs/{id}/status",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
}
