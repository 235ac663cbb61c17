//! The dashboard's security against real Redis: authentication, roles,
//! CSRF, escaping of hostile text, 4xx on bad input, error pages, and
//! nesting under a host application that names the user.

use axum::http::{Method, StatusCode};
use jobqueue_tests::TestEnv;
use jobqueue_tests::dashboard::{As, Dashboard, make_dead_jobs, operator_config};
use jobqueue_tests::jobs::NoopJob;

const HOSTILE: &str = "<script>alert('pwned')</script>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_roles_and_csrf() {
    let env = TestEnv::new("dash-auth").await;
    env.client.enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());

    // No or wrong credentials: 401 everywhere, with a basic-auth challenge.
    for path in [
        "/",
        "/api/v1/stats",
        "/metrics",
        "/assets/app.css",
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

    // Read-only: sees everything, changes nothing (even with the CSRF token).
    assert_eq!(dash.get("/", As::Reader).await.status, StatusCode::OK);
    let token = dash.csrf_token(As::Reader).await;
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
    assert!(!env.client.admin().queue("default").await.unwrap().paused);
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
        !env.client.admin().queue("default").await.unwrap().paused,
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
    assert!(env.client.admin().queue("default").await.unwrap().paused);

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
    assert!(!env.client.admin().queue("default").await.unwrap().paused);

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

    // Both actions are in the audit log, newest first, with who did them.
    let audit = dash.get("/api/v1/audit", As::Reader).await.json();
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0]["actor"].as_str(), entries[0]["action"].as_str()),
        (Some("ci-token"), Some("resume"))
    );
    assert_eq!(
        (entries[1]["actor"].as_str(), entries[1]["action"].as_str()),
        (Some("ops"), Some("pause"))
    );
    assert!(
        dash.get("/audit", As::Reader)
            .await
            .body
            .contains("ci-token")
    );

    // Replicas behind a load balancer share a configured token.
    let shared = "a-shared-csrf-token-for-all-replicas-0123";
    let replica_a = Dashboard::new(&env, operator_config().csrf_token(shared));
    let replica_b = Dashboard::new(&env, operator_config().csrf_token(shared));
    assert_eq!(replica_a.csrf_token(As::Browser).await, shared);
    let paused = replica_b
        .send(
            Method::POST,
            "/api/v1/queues/default/pause",
            As::Browser,
            &[("x-csrf-token", shared)],
            "",
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK);
    assert_ne!(
        dash.csrf_token(As::Browser).await,
        shared,
        "random by default"
    );

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
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_escaped_everywhere() {
    let env = TestEnv::new("dash-xss").await;
    let ids = make_dead_jobs(&env, &[HOSTILE.to_owned()], &format!("\"</pre>{HOSTILE}")).await;
    let dash = Dashboard::new(&env, operator_config());
    let pages = [
        "/queues/default/jobs/dead".to_owned(),
        format!("/queues/default/jobs/dead?error={}", "%3Cscript%3E"),
        "/queues/default/groups".to_owned(),
        format!("/queues/default/job/{}", ids[0]),
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
    // The JSON API returns the text as data, the page shows it as text.
    let job = dash
        .get(
            &format!("/api/v1/queues/default/job/{}", ids[0]),
            As::Reader,
        )
        .await
        .json();
    assert_eq!(job["errors"][0]["message"], HOSTILE);
    assert_eq!(
        dash.get("/api/v1/queues/default/job/x", As::Reader)
            .await
            .headers["content-type"],
        "application/json"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_with_a_message() {
    let env = TestEnv::new("dash-bad").await;
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
            "/api/v1/queues/default/jobs/sleeping".into(),
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
    let audit = dash
        .get("/api/v1/audit?cursor=18446744073709551615", As::Operator)
        .await;
    assert_eq!(audit.status, StatusCode::OK);

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
    assert_eq!(env.client.admin().queue("default").await.unwrap().dead, 1);
    env.cleanup().await;
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

    let env = TestEnv::new("dash-nest").await;
    env.client.enqueue(NoopJob { n: 1 }).await.unwrap();
    let dashboard = dashboard_router(
        env.client.admin(),
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
    let entry = &env.client.admin().audit_log(0, 1).await.unwrap()[0];
    assert_eq!(
        (entry.actor.as_str(), entry.action.as_str()),
        ("ada@host-app", "pause")
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_errors_as_pages_and_scripts_as_json() {
    let env = TestEnv::new("dash-errpage").await;
    env.client.enqueue(NoopJob { n: 1 }).await.unwrap();
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
    env.cleanup().await;
}
