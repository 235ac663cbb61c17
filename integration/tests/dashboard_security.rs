//! The dashboard's security against real Redis: authentication, roles,
//! CSRF, escaping of hostile text, 4xx on bad input, error pages, and
//! nesting under a host application that names the user.

use axum::http::{Method, StatusCode};
use jobqueue_core::store::commands::job_logs::JobLogWrite;
use jobqueue_integration::dashboard::{
    As, Dashboard, make_dead_jobs, operator_config, serve_config,
};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::test_redis;
use jobqueue_testing::TestRedis;

const HOSTILE: &str = "<script>alert('pwned')</script>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_roles_and_csrf() {
    let env = test_redis("dash-auth").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());

    // No or wrong credentials: 401 everywhere, with a basic-auth challenge
    // (but for the public stylesheet and script, which the sign-in page
    // needs).
    for path in [
        "/",
        "/api/v1/stats",
        "/api/v1/scaling",
        "/metrics",
        "/queues",
    ] {
        let reply = dash.get(path, As::Nobody).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(reply.headers.contains_key("www-authenticate"));
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains("authentication")
        );
    }
    assert_eq!(
        dash.get("/assets/app.css", As::Nobody).await.status,
        StatusCode::OK
    );
    let wrong = dash
        .send(
            Method::GET,
            "/",
            As::Nobody,
            &[("authorization", "Bearer nope")],
            "",
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // Read-only: sees everything, gets no CSRF token, changes nothing
    // (even with an operator's token).
    assert_eq!(dash.get("/", As::Reader).await.status, StatusCode::OK);
    assert_eq!(dash.page_csrf_token(As::Reader).await, None);
    let token = dash.csrf_token(As::Browser).await;
    let refused = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Reader,
            &[("x-csrf-token", &token)],
            "",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!env.client().admin().queue("default").await.unwrap().paused);
    assert!(
        !dash
            .get("/queues", As::Reader)
            .await
            .body
            .contains(">Pause<"),
        "no action buttons for readers"
    );

    // Browser (basic auth is sent by browsers on their own): CSRF token needed.
    let no_token = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Browser,
            &[],
            "",
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(no_token.json()["error"].as_str().unwrap().contains("CSRF"));
    let bad_token = dash
        .send(
            Method::POST,
            "/queues/default/pause",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            "csrf=0000",
        )
        .await;
    assert_eq!(bad_token.status, StatusCode::FORBIDDEN);
    let cross_site = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Browser,
            &[("x-csrf-token", &token), ("sec-fetch-site", "cross-site")],
            "",
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert!(
        !env.client().admin().queue("default").await.unwrap().paused,
        "nothing changed so far"
    );

    // The form with the right token works and redirects back.
    let paused = dash
        .send(
            Method::POST,
            "/queues/default/pause",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    assert!(env.client().admin().queue("default").await.unwrap().paused);

    // A bearer token is never sent by a browser on its own: no CSRF token needed.
    let resumed = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/resume",
            As::Operator,
            &[],
            "",
        )
        .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert!(!env.client().admin().queue("default").await.unwrap().paused);

    // No state change on GET.
    assert_eq!(
        dash.get("/api/v1/queues/default/pause", As::Operator)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        dash.get("/queues/default/purge", As::Operator).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );

    // Both actions are in the audit log, newest first, with who did them,
    // and so are the refused attempts (not the browser's first visit
    // without credentials, nor the GETs).
    let audit = dash.get("/api/v1/audit", As::Reader).await.json();
    let entries: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["outcome"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["role"].as_str().unwrap_or("-"),
                e["action"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            "done ci-token operator resume",
            "done ops operator pause",
            "refused_csrf ops operator POST",
            "refused_csrf ops operator POST",
            "refused_csrf ops operator POST",
            "refused_403 reader read_only POST",
            "refused_401 unauthenticated - GET",
        ]
    );
    assert!(
        dash.get("/audit", As::Reader)
            .await
            .body
            .contains("ci-token")
    );

    // (Replicas sharing a CSRF secret: see
    // csrf_tokens_are_per_principal_and_foreign_origins_are_refused.)

    // --read-only caps every credential.
    let read_only = Dashboard::new(&env, operator_config().read_only(true));
    let refused = read_only
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Operator,
            &[],
            "",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_escaped_everywhere() {
    let env = test_redis("dash-xss").await;
    let ids = make_dead_jobs(&env, &[HOSTILE.to_owned()], &format!("\"</pre>{HOSTILE}")).await;
    // A job tagged with hostile text, found by searching for that tag.
    env.client()
        .job(NoopJob { n: 2 })
        .tags([HOSTILE])
        .delay(std::time::Duration::from_secs(600))
        .enqueue()
        .await
        .unwrap();
    // A parent batch and its child batch, both described in hostile text:
    // the parent's page lists the child, the child's page links the parent.
    let parent = env
        .client()
        .batch()
        .description(HOSTILE)
        .create()
        .await
        .unwrap();
    let child = parent.child().description(HOSTILE).create().await.unwrap();
    // The dead job's log holds hostile lines, as a worker (or a worker in
    // another language) stored them.
    let store = env.client().store().clone();
    let hostile_lines = serde_json::to_string(&[
        format!("+1ms INFO log line </details></pre>{HOSTILE}"),
        "bidi \u{202e}txt.exe".to_owned(),
    ])
    .unwrap();
    store
        .write_job_logs(
            &store.queue_keys("default").unwrap(),
            &[JobLogWrite::Attempt {
                job_id: ids[0].to_string(),
                attempt: 1,
                lines_json: hostile_lines,
            }],
            std::time::Duration::from_secs(600),
        )
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let hostile_tag: String = form_urlencoded::byte_serialize(HOSTILE.as_bytes()).collect();
    let pages = [
        format!("/queues/default/search?by=tag&q={hostile_tag}"),
        "/queues/default/jobs/dead".to_owned(),
        format!("/queues/default/jobs/dead?error={}", "%3Cscript%3E"),
        "/queues/default/groups".to_owned(),
        format!("/queues/default/job/{}", ids[0]),
        "/queues/default/batches".to_owned(),
        format!("/queues/default/batches/{}", parent.id()),
        format!("/queues/default/batches/{}", child.id()),
    ];
    for path in &pages {
        let reply = dash.get(path, As::Reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(
            !reply.body.contains("<script>alert"),
            "{path} leaks markup:\n{}",
            reply.body
        );
        assert!(
            reply.body.contains("&lt;script&gt;alert"),
            "{path} does not show the text"
        );
        let csp = reply.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(reply.headers["x-frame-options"], "DENY");
    }
    // The job page shows the log lines as text.
    let job_page = dash
        .get(&format!("/queues/default/job/{}", ids[0]), As::Reader)
        .await;
    assert!(job_page.body.contains("id=\"logs\""), "{}", job_page.body);
    assert!(
        job_page
            .body
            .contains("log line &lt;/details&gt;&lt;/pre&gt;&lt;script&gt;alert"),
        "{}",
        job_page.body
    );
    assert!(
        !job_page.body.contains('\u{202e}'),
        "hidden characters shown"
    );
    let logs = dash
        .get(
            &format!("/api/v1/queues/default/job/{}/logs", ids[0]),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(logs["attempts"][0]["attempt"], 1);
    assert_eq!(
        logs["attempts"][0]["lines"][0],
        format!("+1ms INFO log line </details></pre>{HOSTILE}")
    );
    let openapi = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    assert!(openapi["paths"]["/api/v1/queues/{queue}/job/{id}/logs"]["get"].is_object());
    assert!(openapi["components"]["schemas"]["AttemptLog"].is_object());
    let bad = dash
        .get("/api/v1/queues/default/job/x/logs", As::Reader)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let unknown_queue = dash
        .get(
            &format!("/api/v1/queues/nope/job/{}/logs", ids[0]),
            As::Reader,
        )
        .await;
    assert!(
        unknown_queue.status.is_client_error(),
        "{}",
        unknown_queue.body
    );
    // The JSON API returns the text as data, the page shows it as text.
    let job = dash
        .get(
            &format!("/api/v1/queues/default/job/{}", ids[0]),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(job["errors"][0]["message"], HOSTILE);
    let parent_json = dash
        .get(
            &format!("/api/v1/queues/default/batches/{}", parent.id()),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(parent_json["description"], HOSTILE);
    assert_eq!(parent_json["children"][0]["id"], child.id().to_string());
    assert_eq!(parent_json["children"][0]["state"], "pending");
    let child_json = dash
        .get(
            &format!("/api/v1/queues/default/batches/{}", child.id()),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(child_json["parent"]["id"], parent.id().to_string());
    assert_eq!(child_json["parent"]["queue"], "default");
    let parent_page = dash
        .get(
            &format!("/queues/default/batches/{}", parent.id()),
            As::Reader,
        )
        .await;
    assert!(parent_page.body.contains("id=\"batch-children\""));
    let child_page = dash
        .get(
            &format!("/queues/default/batches/{}", child.id()),
            As::Reader,
        )
        .await;
    assert!(
        child_page
            .body
            .contains(&format!("/queues/default/batches/{}", parent.id()))
    );
    assert_eq!(
        dash.get("/api/v1/queues/default/job/x", As::Reader)
            .await
            .headers["content-type"],
        "application/json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_with_a_message() {
    let env = test_redis("dash-bad").await;
    make_dead_jobs(&env, &["boom".to_owned()], "").await;
    let dash = Dashboard::new(&env, operator_config());
    let unknown_id = uuid::Uuid::now_v7();
    let cases: Vec<(String, StatusCode)> = vec![
        (
            "/api/v1/queues/default/jobs/dead?limit=abc".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead?limit=0".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead?cursor=-1".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead?cursor=99999999999999999999999".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/hibernating".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/nope/jobs/dead".into(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/queues/bad%20name/jobs/dead".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/job/not-a-uuid".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/v1/queues/default/job/{unknown_id}"),
            StatusCode::NOT_FOUND,
        ),
        (format!("/api/v1/jobs/{unknown_id}"), StatusCode::NOT_FOUND),
        ("/api/v1/history/weeks".into(), StatusCode::NOT_FOUND),
        (
            "/api/v1/history/minutes?count=x".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/workers?limit=-5".into(), StatusCode::BAD_REQUEST),
        ("/api/v1/scaling?queue=nope".into(), StatusCode::NOT_FOUND),
        (
            "/api/v1/scaling?queue=bad%20name".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("/api/v1/scaling?queue=".into(), StatusCode::BAD_REQUEST),
        ("/api/v1/scaling?speed=9".into(), StatusCode::BAD_REQUEST),
        (
            "/api/v1/scaling?queue=default&queue=default".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/v1/queues/default/jobs/dead?type={}", "x".repeat(600)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/queues/default/jobs/dead?cursor=abc".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/queues/default/job/{unknown_id}"),
            StatusCode::NOT_FOUND,
        ),
        ("/charts/weeks".into(), StatusCode::NOT_FOUND),
        ("/assets/other.js".into(), StatusCode::NOT_FOUND),
        ("/no/such/page".into(), StatusCode::NOT_FOUND),
    ];
    for (path, want) in &cases {
        let reply = dash.get(path, As::Operator).await;
        assert_eq!(reply.status, *want, "{path}: {}", reply.body);
        assert!(
            !reply.json()["error"].as_str().unwrap().is_empty(),
            "{path}"
        );
    }
    // Huge limits are capped, not refused.
    let page = dash
        .get(
            "/api/v1/queues/default/jobs/dead?limit=1000000",
            As::Operator,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    for cursor in ["18446744073709551615", "0-0", "0"] {
        let audit = dash
            .get(&format!("/api/v1/audit?cursor={cursor}"), As::Operator)
            .await;
        assert_eq!(audit.status, StatusCode::OK, "{cursor}: {}", audit.body);
    }
    for cursor in ["18446744073709551616", "1-2-3", "x"] {
        let audit = dash
            .get(&format!("/api/v1/audit?cursor={cursor}"), As::Operator)
            .await;
        assert_eq!(
            audit.status,
            StatusCode::BAD_REQUEST,
            "{cursor}: {}",
            audit.body
        );
    }

    for (path, body, want) in [
        (
            "/api/v1/queues/default/jobs/dead/retry",
            "{not json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead/retry",
            "{}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead/retry",
            "{\"ids\":[\"x\"]}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead/retry",
            "{\"ids\":[],\"surprise\":1}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/dead/explode",
            "{\"all_matching\":true}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/jobs/ready/retry",
            "{\"all_matching\":true}",
            StatusCode::CONFLICT,
        ),
        (
            "/api/v1/queues/nope/jobs/dead/retry",
            "{\"all_matching\":true}",
            StatusCode::NOT_FOUND,
        ),
        ("/api/v1/queues/default/explode", "", StatusCode::NOT_FOUND),
    ] {
        let reply = dash
            .send(
                Method::POST,
                path,
                As::Operator,
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_eq!(reply.status, want, "{path} {body}: {}", reply.body);
        assert!(reply.json()["error"].is_string());
    }
    // Nothing was lost by all that.
    assert_eq!(env.client().admin().queue("default").await.unwrap().dead, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nests_under_a_host_app_that_names_the_user() {
    use axum::extract::Request;
    use axum::middleware::{self, Next};
    use axum::response::Response;
    use jobqueue_dashboard::{DashboardConfig, HostUser, Role, dashboard_router};

    async fn host_auth(mut request: Request, next: Next) -> Response {
        if request.headers().contains_key("x-admin") {
            request.extensions_mut().insert(HostUser {
                name: "ada@host-app".to_owned(),
                role: Role::Operator,
            });
        }
        next.run(request).await
    }

    let env = test_redis("dash-nest").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dashboard = dashboard_router(
        env.client().admin(),
        DashboardConfig::behind_host_auth(Role::ReadOnly).base_path("/admin/jobs"),
    );
    let app = Dashboard {
        router: axum::Router::new()
            .nest("/admin/jobs", dashboard)
            .layer(middleware::from_fn(host_auth)),
    };
    let page = app.get("/admin/jobs/queues", As::Nobody).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("href=\"/admin/jobs/assets/app.css\""));
    assert!(
        page.body
            .contains("href=\"/admin/jobs/queues/default/jobs/ready\"")
    );
    assert!(
        !page.body.contains(">Pause<"),
        "without a HostUser: read-only"
    );
    let refused = app
        .send(
            Method::POST,
            "/admin/jobs/api/v1/queues/default/pause",
            As::Nobody,
            &[],
            "",
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let admin_page = app
        .send(
            Method::GET,
            "/admin/jobs/queues",
            As::Nobody,
            &[("x-admin", "1")],
            "",
        )
        .await;
    assert!(admin_page.body.contains(">Pause<"));
    let marker = "name=\"csrf-token\" content=\"";
    let at = admin_page.body.find(marker).unwrap() + marker.len();
    let token = admin_page.body[at..at + 64].to_owned();
    let paused = app
        .send(
            Method::POST,
            "/admin/jobs/queues/default/pause",
            As::Nobody,
            &[
                ("x-admin", "1"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert!(
        paused.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/jobs/queues")
    );
    let entry = &env.client().admin().audit_log(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.actor.as_str(), entry.action.as_str()),
        ("ada@host-app", "pause")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_errors_as_pages_and_scripts_as_json() {
    let env = test_redis("dash-errpage").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let path = format!("/queues/default/job/{}", uuid::Uuid::now_v7());
    let page = dash
        .send(
            Method::GET,
            &path,
            As::Browser,
            &[("accept", "text/html,*/*")],
            "",
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("id=\"error-message\"") && page.body.contains("no scheduled"));
    let hostile = dash
        .send(
            Method::GET,
            "/queues/%3Cscript%3E/jobs/dead",
            As::Browser,
            &[("accept", "text/html")],
            "",
        )
        .await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST);
    assert!(
        !hostile.body.contains("<script>") && hostile.body.contains("&lt;script&gt;"),
        "{}",
        hostile.body
    );
    let json = dash.get(&path, As::Browser).await;
    assert_eq!(json.status, StatusCode::NOT_FOUND);
    assert!(json.json()["error"].is_string());
}

/// The DNS-rebinding attack of issue 12: `jobqueue serve` without
/// credentials on 127.0.0.1, and a web page whose name the attacker points
/// at 127.0.0.1. The browser then sends the attacker's host name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_credentials_answers_only_loopback_host_names() {
    let env = test_redis("dash-rebind").await;
    env.client().enqueue(NoopJob { n: 41 }).await.unwrap();
    let dash = Dashboard::new(&env, serve_config(&["--bind", "127.0.0.1:9482"]));
    let rebound = [("host", "attacker.example:9482")];
    for path in [
        "/",
        "/queues",
        "/api/v1/stats",
        "/api/v1/queues/default/jobs/ready",
        "/metrics",
    ] {
        let reply = dash.send(Method::GET, path, As::Nobody, &rebound, "").await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            reply.body
        );
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains("attacker.example"),
            "{path}: {}",
            reply.body
        );
        assert!(!reply.body.contains("\"n\":41"), "{path} leaks a payload");
    }
    // The forged pause: the token cannot even be read, and a state change
    // under the foreign name is refused whatever it carries.
    let token = dash
        .send(
            Method::GET,
            "/",
            As::Nobody,
            &[("host", "127.0.0.1:9482")],
            "",
        )
        .await
        .body;
    let token =
        jobqueue_integration::dashboard::csrf_token_in(&token).expect("operator page token");
    let forged = dash
        .send(
            Method::POST,
            "/queues/default/pause",
            As::Nobody,
            &[
                ("host", "attacker.example:9482"),
                ("origin", "http://attacker.example:9482"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(!env.client().admin().queue("default").await.unwrap().paused);

    // Loopback names (any port) are served.
    for host in [
        "localhost:9482",
        "127.0.0.1:9482",
        "[::1]:9482",
        "LOCALHOST",
    ] {
        let reply = dash
            .send(
                Method::GET,
                "/api/v1/stats",
                As::Nobody,
                &[("host", host)],
                "",
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{host}: {}", reply.body);
    }
    // No Host at all (no browser does that): refused too.
    assert_eq!(
        dash.get("/api/v1/stats", As::Nobody).await.status,
        StatusCode::FORBIDDEN
    );
    // A page on another local port may name our host, but its Origin gives
    // it away: a state change is refused even with the right token.
    let other_port = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Nobody,
            &[
                ("host", "127.0.0.1:9482"),
                ("origin", "http://127.0.0.1:8000"),
                ("x-csrf-token", &token),
            ],
            "",
        )
        .await;
    assert_eq!(other_port.status, StatusCode::FORBIDDEN);
    assert!(!env.client().admin().queue("default").await.unwrap().paused);
    // The same request from our own origin works.
    let own = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Nobody,
            &[
                ("host", "127.0.0.1:9482"),
                ("origin", "http://127.0.0.1:9482"),
                ("sec-fetch-site", "same-origin"),
                ("x-csrf-token", &token),
            ],
            "",
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(env.client().admin().queue("default").await.unwrap().paused);

    // A proxy's name is added with --allowed-host (or the environment).
    let proxied = Dashboard::new(
        &env,
        serve_config(&[
            "--bind",
            "127.0.0.1:9482",
            "--allowed-host",
            "jobs.internal",
        ]),
    );
    for (host, want) in [
        ("jobs.internal", StatusCode::OK),
        ("jobs.internal:443", StatusCode::OK),
        ("localhost:9482", StatusCode::OK),
        ("evil.internal", StatusCode::FORBIDDEN),
    ] {
        let reply = proxied
            .send(
                Method::GET,
                "/api/v1/stats",
                As::Nobody,
                &[("host", host)],
                "",
            )
            .await;
        assert_eq!(reply.status, want, "{host}");
    }
    // A browser asking for a page reads why, as a page.
    let page = dash
        .send(
            Method::GET,
            "/",
            As::Nobody,
            &[("host", "attacker.example"), ("accept", "text/html")],
            "",
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("id=\"error-message\"") && page.body.contains("--allowed-host"));
    // With credentials, the Host is not checked (a browser never sends the
    // dashboard's credentials to another origin).
    let with_token = Dashboard::new(&env, operator_config());
    assert_eq!(
        with_token
            .send(Method::GET, "/api/v1/stats", As::Operator, &rebound, "")
            .await
            .status,
        StatusCode::OK
    );
}

/// Issue 12, point 2: the CSRF token is derived per principal, readers get
/// none, and the browser's own signals (`Sec-Fetch-Site`, `Origin`,
/// `Referer`) refuse what comes from elsewhere, bearer requests included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_tokens_are_per_principal_and_foreign_origins_are_refused() {
    use base64::Engine;
    use jobqueue_dashboard::{Credential, DashboardConfig, Role};
    let env = test_redis("dash-csrf").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let basic = |user: &str, password: &str, role| Credential::Basic {
        user: user.to_owned(),
        password: password.to_owned(),
        role,
    };
    let config = || {
        DashboardConfig::with_credentials(vec![
            basic("alice", "alice-password-0123", Role::Operator),
            basic("bob", "bob-password-01234567", Role::Operator),
            basic("viewer", "viewer-password-0123", Role::ReadOnly),
            Credential::Bearer {
                token: "operator-token-0123456789".to_owned(),
                label: "ci".to_owned(),
                role: Role::Operator,
            },
        ])
    };
    let dash = Dashboard::new(&env, config());
    let auth = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let alice = auth("alice", "alice-password-0123");
    let bob = auth("bob", "bob-password-01234567");
    let viewer = auth("viewer", "viewer-password-0123");
    let page = |who: String| {
        let dash = &dash;
        async move {
            dash.send(
                Method::GET,
                "/queues",
                As::Nobody,
                &[("authorization", &who)],
                "",
            )
            .await
            .body
        }
    };
    let alice_token = jobqueue_integration::dashboard::csrf_token_in(&page(alice.clone()).await)
        .expect("operators get a token");
    let bob_token =
        jobqueue_integration::dashboard::csrf_token_in(&page(bob.clone()).await).unwrap();
    assert_ne!(alice_token, bob_token, "one token per principal");
    let viewer_page = page(viewer.clone()).await;
    assert!(
        jobqueue_integration::dashboard::csrf_token_in(&viewer_page).is_none()
            && !viewer_page.contains("name=\"csrf\""),
        "read-only users get no token and no forms: {viewer_page}"
    );

    let pause = |who: String, headers: Vec<(&'static str, String)>| {
        let dash = &dash;
        async move {
            let mut all: Vec<(&str, &str)> = vec![("authorization", who.as_str())];
            all.extend(headers.iter().map(|(n, v)| (*n, v.as_str())));
            dash.send(
                Method::POST,
                "/api/v1/queues/default/pause",
                As::Nobody,
                &all,
                "",
            )
            .await
        }
    };
    let paused = || async { env.client().admin().queue("default").await.unwrap().paused };
    // Bob's token is no good for Alice (a token read from one user's page
    // cannot forge another's action).
    let crossed = pause(alice.clone(), vec![("x-csrf-token", bob_token.clone())]).await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    assert!(crossed.json()["error"].as_str().unwrap().contains("CSRF"));
    // Browser signals of another site, or of a same-site sibling.
    let host = ("host", "jobs.example.com".to_owned());
    for (name, value) in [
        ("sec-fetch-site", "same-site"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "none"),
        ("origin", "https://other.example.com"),
        ("origin", "https://jobs.example.com:8443"),
        ("origin", "null"),
        ("referer", "https://other.example.com/page"),
    ] {
        let reply = pause(
            alice.clone(),
            vec![
                host.clone(),
                ("x-csrf-token", alice_token.clone()),
                (name, value.to_owned()),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}: {value}");
        // Bearer requests need no token, but are refused from elsewhere too.
        let bearer = dash
            .send(
                Method::POST,
                "/api/v1/queues/default/pause",
                As::Operator,
                &[("host", "jobs.example.com"), (name, value)],
                "",
            )
            .await;
        assert_eq!(
            bearer.status,
            StatusCode::FORBIDDEN,
            "bearer {name}: {value}"
        );
        assert!(!paused().await, "{name}: {value}");
    }
    // Alice's own page, from her own origin: accepted.
    let own = pause(
        alice.clone(),
        vec![
            host.clone(),
            ("x-csrf-token", alice_token.clone()),
            ("sec-fetch-site", "same-origin".to_owned()),
            ("origin", "https://jobs.example.com".to_owned()),
        ],
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(paused().await);

    // Replicas sharing a configured secret derive the same token for the
    // same user; the secret itself is never on a page.
    let secret = "a-shared-csrf-secret-for-all-replicas-0123";
    let replica_a = Dashboard::new(&env, config().csrf_secret(secret));
    let replica_b = Dashboard::new(&env, config().csrf_secret(secret));
    let token_a = jobqueue_integration::dashboard::csrf_token_in(
        &replica_a
            .send(
                Method::GET,
                "/",
                As::Nobody,
                &[("authorization", &alice)],
                "",
            )
            .await
            .body,
    )
    .unwrap();
    assert_ne!(token_a, secret);
    assert_ne!(token_a, alice_token, "random secret by default");
    let resumed = replica_b
        .send(
            Method::POST,
            "/api/v1/queues/default/resume",
            As::Nobody,
            &[("authorization", &alice), ("x-csrf-token", &token_a)],
            "",
        )
        .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
}

/// Waits, when needed, so that the next 15 s lie in one minute of the
/// Redis clock (the audit log's refusal bound counts per minute).
async fn start_of_a_quiet_minute(env: &TestRedis) {
    let (secs, _): (u64, u64) = redis::cmd("TIME")
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    let into_minute = secs % 60;
    if into_minute > 40 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - into_minute)).await;
    }
}

/// Issue 12, point 4: a flood of no-ops cannot push a purge out of the
/// audit log, every credential is named by its label, refused attempts are
/// logged (at a bounded rate, over all replicas), and free text cannot
/// forge an entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_survives_floods_and_names_every_credential() {
    let env = test_redis("dash-audit").await;
    make_dead_jobs(
        &env,
        &[
            "boom\n2026-01-01T00:00:00Z root purge payments".to_owned(),
            "other".to_owned(),
        ],
        "",
    )
    .await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let config = || {
        serve_config(&[
            "--token",
            "deploy-bot:0123456789abcdef0123",
            "--token",
            "fedcba9876543210fedcba",
            "--read-only-token",
            "grafana:abcdefabcdefabcdef01",
        ])
    };
    let dash = Dashboard::new(&env, config());
    let bearer = |token: &str| format!("Bearer {token}");
    let deploy_bot = bearer("0123456789abcdef0123");
    let post = |auth: String, path: &'static str, body: &'static str| {
        let dash = &dash;
        async move {
            dash.send(
                Method::POST,
                path,
                As::Nobody,
                &[("authorization", &auth)],
                body,
            )
            .await
        }
    };
    let purged = post(deploy_bot.clone(), "/api/v1/queues/default/purge", "").await;
    assert_eq!(purged.json()["count"], 1, "{}", purged.body);
    // An operator-chosen filter text with a newline.
    let deleted = post(
        deploy_bot.clone(),
        "/api/v1/queues/default/jobs/dead/delete",
        "{\"all_matching\":true,\"error\":\"boom\\n2026\"}",
    )
    .await;
    assert_eq!(deleted.json()["count"], 1, "{}", deleted.body);
    // An unlabelled token is logged under a label derived from it.
    let resumed = post(
        bearer("fedcba9876543210fedcba"),
        "/api/v1/queues/default/pause",
        "",
    )
    .await;
    assert_eq!(resumed.status, StatusCode::OK);
    // 1,100 deletes that match nothing.
    for _ in 0..1100 {
        let noop = post(
            deploy_bot.clone(),
            "/api/v1/queues/default/jobs/dead/delete",
            "{\"all_matching\":true,\"error\":\"matches nothing\"}",
        )
        .await;
        assert_eq!(noop.json()["count"], 0);
    }
    // Refusals: wrong tokens from two replicas, a reader's action.
    start_of_a_quiet_minute(&env).await;
    let replica = Dashboard::new(&env, config());
    for n in 0..300 {
        let target = if n % 2 == 0 { &dash } else { &replica };
        let reply = target
            .send(
                Method::GET,
                "/api/v1/stats",
                As::Nobody,
                &[("authorization", "Bearer wrong-token-0123456789")],
                "",
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let refused = post(
        bearer("abcdefabcdefabcdef01"),
        "/api/v1/queues/default/resume",
        "",
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let audit = dash
        .send(
            Method::GET,
            "/api/v1/audit?limit=1000",
            As::Nobody,
            &[("authorization", &bearer("abcdefabcdefabcdef01"))],
            "",
        )
        .await
        .json();
    let entries = audit.as_array().unwrap();
    let find = |action: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .collect::<Vec<_>>()
    };
    let purge = find("purge", "done");
    assert_eq!(
        purge.len(),
        1,
        "the purge is still there (newest {} entries read)",
        entries.len()
    );
    assert_eq!(
        (purge[0]["actor"].as_str(), purge[0]["role"].as_str()),
        (Some("deploy-bot"), Some("operator"))
    );
    let deletes = find("delete", "done");
    assert_eq!(deletes.len(), 1, "no-op deletes are not logged");
    let target = deletes[0]["target"].as_str().unwrap();
    assert!(
        !target.contains('\n') && target.contains("boom\\u{000A}2026"),
        "control characters are escaped: {target:?}"
    );
    let pause = find("pause", "done");
    let label = pause[0]["actor"].as_str().unwrap();
    assert!(
        label.starts_with("token-") && !label.contains("fedcba"),
        "{label}"
    );
    assert_eq!(
        find("GET", "refused_401").len(),
        60,
        "60 refusals a minute of a kind, over both replicas"
    );
    let forbidden = find("POST", "refused_403");
    assert_eq!(forbidden.len(), 1);
    assert_eq!(forbidden[0]["actor"], "grafana");
    assert_eq!(forbidden[0]["target"], "/api/v1/queues/default/resume");

    // When the minute is over, the first refusal after it writes how many
    // were dropped (the minute is moved back rather than waited for).
    let mut redis = env.connection().await.unwrap();
    let key = format!("{}:audit:refusals:401", env.prefix());
    let window: i64 = redis::cmd("HGET")
        .arg(&key)
        .arg("window")
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("window")
        .arg(window - 60_000)
        .query_async(&mut redis)
        .await
        .unwrap();
    dash.send(
        Method::GET,
        "/",
        As::Nobody,
        &[("authorization", "Bearer wrong-token-0123456789")],
        "",
    )
    .await;
    let newest = dash
        .send(
            Method::GET,
            "/api/v1/audit?limit=2",
            As::Nobody,
            &[("authorization", &bearer("abcdefabcdefabcdef01"))],
            "",
        )
        .await
        .json();
    let newest: Vec<(String, String, u64)> = newest
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        newest,
        [
            ("GET".to_owned(), "refused_401".to_owned(), 0),
            (
                "suppressed_refusals".to_owned(),
                "refused_401".to_owned(),
                240
            ),
        ]
    );
}

/// Issue 12, point 5: what the framework itself refuses (a body too large,
/// a URI too long, a wrong method, a path that is not UTF-8, an unknown
/// route) answers the API's JSON error like every other error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_rejections_answer_json_on_the_api() {
    let env = test_redis("dash-rejections").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let long_path = format!("/api/v1/queues/{}", "q".repeat(9000));
    let huge_body = format!("{{\"ids\":[\"{}\"]}}", "0".repeat(3 * 1024 * 1024));
    let cases: Vec<(Method, &str, &str, StatusCode)> = vec![
        (
            Method::POST,
            "/api/v1/queues/default/jobs/dead/retry",
            &huge_body,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (Method::GET, &long_path, "", StatusCode::URI_TOO_LONG),
        (
            Method::GET,
            "/api/v1/queues/default/pause",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::DELETE,
            "/api/v1/stats",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::GET,
            "/api/v1/queues/%FF%FE/jobs/dead",
            "",
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/api/v1/no/such/route",
            "",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PUT,
            "/api/v1/queues/default/weights/gold",
            &huge_body,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            Method::POST,
            "/api/v1/queues/default/weights/gold",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::PUT,
            "/api/v1/queues/default/weights/%FF%FE",
            r#"{"weight": 2}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            "/api/v1/queues/default/keys/waits",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (method, path, body, want) in cases {
        let shown = &path[..path.len().min(60)];
        let reply = dash
            .send(
                method.clone(),
                path,
                As::Operator,
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_eq!(reply.status, want, "{method} {shown}: {}", reply.body);
        assert_eq!(
            reply.headers["content-type"], "application/json",
            "{method} {shown}"
        );
        let json = reply.json();
        assert_eq!(json["status"], want.as_u16(), "{method} {shown}");
        assert!(
            !json["error"].as_str().unwrap().is_empty(),
            "{method} {shown}"
        );
    }
}

/// Issue 12, point 5: flow limits have documented upper bounds, refused
/// with 400 and a message from the API, the pages and the CLI alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_limits_have_upper_bounds() {
    let env = test_redis("dash-bounds").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());
    for (path, body) in [
        (
            "/api/v1/queues/default/limits",
            r#"{"max_running": 4294967295}"#,
        ),
        (
            "/api/v1/queues/default/limits",
            r#"{"rate": {"limit": 4000000000, "per_ms": 1000}}"#,
        ),
        (
            "/api/v1/queues/default/limits",
            r#"{"rate": {"limit": 10, "per_ms": 1000000000000000}}"#,
        ),
        (
            "/api/v1/queues/default/key-limits/customer",
            r#"{"max_running": 4294967295}"#,
        ),
        (
            "/api/v1/queues/default/key-limits/customer",
            r#"{"rate": {"limit": 10, "per_ms": 18446744073709551615}}"#,
        ),
    ] {
        let reply = dash
            .send(
                Method::PUT,
                path,
                As::Operator,
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(
            reply.json()["error"].as_str().unwrap().contains("at most"),
            "{path} {body}: {}",
            reply.body
        );
    }
    let form = dash
        .post_form("/queues/default/limits", "max_running=99999999&rate=")
        .await;
    assert_eq!(form.status, StatusCode::BAD_REQUEST, "{}", form.body);
    let admin = env.client().admin();
    assert!(admin.queue_limits("default").await.unwrap().is_unlimited());
    assert!(admin.key_limits("default").await.unwrap().is_empty());
    // The bounds themselves are accepted.
    let at_bounds = dash
        .send(
            Method::PUT,
            "/api/v1/queues/default/limits",
            As::Operator,
            &[("content-type", "application/json")],
            r#"{"max_running": 1000000, "rate": {"limit": 1000000, "per_ms": 86400000}}"#,
        )
        .await;
    assert_eq!(at_bounds.status, StatusCode::OK, "{}", at_bounds.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_workflow_and_node_names_are_escaped_in_pages_graph_and_api() {
    let env = test_redis("dash-wf-xss").await;
    let client = env.client();
    let node = format!("\"><{HOSTILE}");
    let id = client
        .workflow(HOSTILE)
        .node(node.as_str(), client.job(NoopJob { n: 1 }))
        .node(
            "after\u{202E}txt",
            client.job(NoopJob { n: 1 }).queue("other"),
        )
        .edge(node.as_str(), "after\u{202E}txt")
        .enqueue()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let status = client.workflow_status(id).await.unwrap();
    // The dependent waits for its parent: its record is on its page.
    let waiting_job = status.nodes[1].job_id;
    for path in [
        "/workflows".to_owned(),
        format!("/workflows?name={}", "%3Cscript%3E"),
        format!("/workflows/{id}"),
    ] {
        let reply = dash.get(&path, As::Reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(!reply.body.contains("<script>alert"), "{path} leaks markup");
        assert!(
            reply.body.contains("&lt;script&gt;alert"),
            "{path} does not show the name"
        );
        assert!(
            !reply.body.contains('\u{202E}'),
            "{path} applies a hidden character"
        );
    }
    // The job page names its node (hidden character made visible) and
    // links to its workflow.
    let job_page = dash
        .get(&format!("/queues/other/job/{waiting_job}"), As::Reader)
        .await;
    assert_eq!(job_page.status, StatusCode::OK);
    assert!(
        job_page.body.contains(&format!("/workflows/{id}")),
        "no link to the workflow"
    );
    assert!(job_page.body.contains("after"), "node name shown");
    assert!(
        job_page.body.contains("if it dies: dead_letter"),
        "the edge's policy shown"
    );
    assert!(
        !job_page.body.contains('\u{202E}'),
        "hidden character applied"
    );
    // The graph: SVG drawn on the server, names escaped, no script.
    let graph = dash
        .get(&format!("/workflows/{id}/graph"), As::Reader)
        .await;
    assert_eq!(graph.status, StatusCode::OK);
    assert_eq!(graph.headers["content-type"], "image/svg+xml");
    assert!(graph.body.starts_with("<svg") && graph.body.ends_with("</svg>"));
    assert!(!graph.body.contains("<script"), "{}", graph.body);
    assert!(graph.body.contains("&lt;script&gt;alert"));
    assert!(!graph.body.contains('\u{202E}'));
    assert_eq!(graph.body.matches("<g class=\"node\"").count(), 2);
    assert_eq!(graph.body.matches("<line ").count(), 1);
    // The API returns the names as data.
    let one = dash
        .get(&format!("/api/v1/workflows/{id}"), As::Reader)
        .await
        .json();
    assert_eq!(one["name"], HOSTILE);
    assert_eq!(one["nodes"][0]["name"], node.as_str());
    let listed = dash
        .get("/api/v1/workflows?state=running", As::Reader)
        .await
        .json();
    assert_eq!(listed[0]["id"], id.to_string());
    // Bad input: 4xx with a message, never 5xx.
    for (path, code) in [
        ("/api/v1/workflows/nope".to_owned(), StatusCode::BAD_REQUEST),
        (
            format!("/api/v1/workflows/{}", uuid::Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/workflows?state=sleepy".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/workflows?queue=unknown".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/workflows?limit=0".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        ("/workflows/nope".to_owned(), StatusCode::BAD_REQUEST),
        ("/workflows/nope/graph".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let reply = dash.get(&path, As::Reader).await;
        assert_eq!(reply.status, code, "{path}: {}", reply.body);
    }
    // Cancel: operators only; the reader is refused.
    let path = format!("/api/v1/workflows/{id}/cancel");
    let refused = dash.send(Method::POST, &path, As::Reader, &[], "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let done = dash.send(Method::POST, &path, As::Operator, &[], "").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["count"], 2);
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    for path in [
        "/api/v1/workflows",
        "/api/v1/workflows/{id}",
        "/api/v1/workflows/{id}/cancel",
        "/api/v1/workflows/{id}/retry-from/{node}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
}

/// Retry from a node over the JSON API: operators only, audited, 4xx (never
/// 5xx) for a bad id, an unknown workflow or node, and a node that did not
/// fail; a retry of a cancelled node re-enqueues it and its dependents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_from_a_node_over_the_api_is_for_operators_and_refuses_bad_input() {
    let env = test_redis("dash-wf-retry").await;
    let client = env.client();
    let id = client
        .workflow("retry me")
        .node("first", client.job(NoopJob { n: 1 }))
        .node("second", client.job(NoopJob { n: 2 }).queue("other"))
        .edge("first", "second")
        .enqueue()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let path = format!("/api/v1/workflows/{id}/retry-from/first");
    // Nothing failed yet: the node is queued, a conflict with its state.
    let early = dash.send(Method::POST, &path, As::Operator, &[], "").await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert!(early.body.contains("only a failed"), "{}", early.body);
    let cancel = format!("/api/v1/workflows/{id}/cancel");
    let done = dash
        .send(Method::POST, &cancel, As::Operator, &[], "")
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    for (bad, code) in [
        (
            "/api/v1/workflows/nope/retry-from/first".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!(
                "/api/v1/workflows/{}/retry-from/first",
                uuid::Uuid::now_v7()
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/v1/workflows/{id}/retry-from/nobody"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/v1/workflows/{id}/retry-from/%3Cscript%3E"),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = dash.send(Method::POST, &bad, As::Operator, &[], "").await;
        assert_eq!(reply.status, code, "{bad}: {}", reply.body);
    }
    let refused = dash.send(Method::POST, &path, As::Reader, &[], "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let retried = dash.send(Method::POST, &path, As::Operator, &[], "").await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    let body = retried.json();
    assert_eq!(body["action"], "workflow_retry_from");
    assert_eq!(body["enqueued"][0][0], "first");
    assert_eq!(body["enqueued"][1][0], "second");
    let status = client.workflow_status(id).await.unwrap();
    assert_eq!(status.summary.retries, 1);
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 1);
    let audit = dash.get("/api/v1/audit", As::Operator).await;
    assert!(audit.body.contains("workflow_retry_from"), "{}", audit.body);
    // Again: the node is queued now, not failed.
    let again = dash.send(Method::POST, &path, As::Operator, &[], "").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

/// The workflow page's "Retry from here" button: shown to operators for a
/// failed, skipped or cancelled node (its name percent-encoded in the
/// form's action), refused without the CSRF token, 4xx (never 5xx) on a
/// bad node or a node that did not fail, and a redirect when it worked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_from_here_button_goes_through_the_csrf_checked_form() {
    let env = test_redis("dash-wf-retry-form").await;
    let client = env.client();
    let id = client
        .workflow("form")
        .node("first step", client.job(NoopJob { n: 1 }))
        .node("second", client.job(NoopJob { n: 2 }).queue("other"))
        .edge("first step", "second")
        .enqueue()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let page = format!("/workflows/{id}");
    let action = format!("/workflows/{id}/retry-from/first%20step");
    assert!(
        !dash
            .get(&page, As::Browser)
            .await
            .body
            .contains("Retry from here")
    );
    let cancelled = dash.post_form(&format!("/workflows/{id}/cancel"), "").await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.body
    );
    let shown = dash.get(&page, As::Browser).await;
    assert!(shown.body.contains("Retry from here"), "{}", shown.body);
    assert!(shown.body.contains(&action), "{}", shown.body);
    let reader = dash.get(&page, As::Reader).await;
    assert!(!reader.body.contains("Retry from here"));
    let no_token = dash
        .send(
            Method::POST,
            &action,
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            "",
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "{}", no_token.body);
    let unknown = dash
        .post_form(&format!("/workflows/{id}/retry-from/nobody"), "")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    let bad_id = dash.post_form("/workflows/nope/retry-from/first", "").await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST, "{}", bad_id.body);
    let done = dash.post_form(&action, "").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(client.workflow_status(id).await.unwrap().summary.retries, 1);
    let again = dash.post_form(&action, "").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}
