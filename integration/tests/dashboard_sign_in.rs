//! Browser sign-in to the dashboard against real Redis: the login page,
//! the session cookie's attributes, the session in Redis (only a hash of
//! its id), idle and absolute expiry, sign-out, throttling shared by
//! replicas, roles and CSRF tokens of signed-in users, login CSRF, no open
//! redirect, escaping, bad input (4xx, never 5xx), and a host application
//! that authenticates users itself (`DashboardConfig::host_auth`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use jobqueue_dashboard::{Credential, DashboardConfig, Role, dashboard_router};
use jobqueue_integration::dashboard::{
    BASIC_USER, OPERATOR_TOKEN, Reply, csrf_token_in, operator_config,
};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::test_redis;
use jobqueue_testing::TestRedis;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

/// A read-only basic-auth user added to [`operator_config`].
const READER_USER: (&str, &str) = ("watcher", "read-only-pass-0123");

fn config() -> DashboardConfig {
    let mut credentials = operator_config().credentials().to_vec();
    credentials.push(Credential::Basic {
        user: READER_USER.0.to_owned(),
        password: READER_USER.1.to_owned(),
        role: Role::ReadOnly,
    });
    DashboardConfig::with_credentials(credentials)
}

/// A browser's view of a router: it keeps cookies and sends what a
/// browser sends on same-origin navigations and form posts.
struct Browser {
    router: Router,
    cookies: HashMap<String, String>,
    client: SocketAddr,
}

impl Browser {
    fn new(router: Router) -> Self {
        Self {
            router,
            cookies: HashMap::new(),
            client: "203.0.113.7:50000".parse().unwrap(),
        }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", "localhost")
            .header("accept", "text/html,application/xhtml+xml");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", jar.join("; "));
        }
        if method == Method::POST {
            request = request
                .header("origin", "http://localhost")
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded");
        }
        let mut request = request.body(Body::from(body.to_owned())).unwrap();
        // What the test says replaces what a browser would send.
        for (name, value) in extra {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        request.extensions_mut().insert(ConnectInfo(self.client));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        for cookie in headers.get_all("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], "").await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(Method::POST, path, &[], &body).await
    }

    /// Opens `login` (under `base`) and posts its form.
    async fn sign_in(
        &mut self,
        base: &str,
        user: &str,
        password: &str,
        next: Option<&str>,
    ) -> Reply {
        let page = self.get(&format!("{base}/login")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = form_token(&page.body).expect("sign-in token");
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("user", user),
            ("password", password),
        ];
        if let Some(next) = next {
            fields.push(("next", next));
        }
        self.post(&format!("{base}/login"), &fields).await
    }

    fn session(&self) -> Option<&String> {
        self.cookies.get("jobqueue_session")
    }
}

/// The `csrf` hidden field of a page's first form.
fn form_token(page: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker)? + marker.len();
    let len = page[start..].find('"')?;
    Some(page[start..start + len].to_owned())
}

fn location(reply: &Reply) -> &str {
    reply
        .headers
        .get("location")
        .map_or("", |v| v.to_str().unwrap())
}

fn set_cookie<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", reply.headers))
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn session_ttl_ms(env: &TestRedis, cookie: &str) -> i64 {
    let mut conn = env.connection().await.unwrap();
    let key = format!("{}:dashboard:session:{}", env.prefix(), sha256_hex(cookie));
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

async fn outcomes(env: &TestRedis) -> Vec<String> {
    let entries = env.client().admin().audit_log(None, 1000).await.unwrap();
    entries
        .into_iter()
        .map(|e| format!("{} {}", e.outcome, e.action))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_acts_and_signs_out() {
    let env = test_redis("dash-sign-in").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let mut browser = Browser::new(dashboard_router(env.client().admin(), config()));

    // Not signed in: pages redirect to the sign-in page, the API says 401.
    let page = browser.get("/queues?state=dead").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/login?next=%2Fqueues%3Fstate%3Ddead");
    let api = browser.get("/api/v1/stats").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(api.json()["error"].is_string());

    // The sign-in page sets the nonce cookie of its form's token.
    let login = browser.get("/login?next=%2Fqueues").await;
    assert_eq!(login.status, StatusCode::OK);
    let nonce = set_cookie(&login, "jobqueue_sign_in");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(nonce.contains(attribute), "{nonce}");
    }
    assert!(login.body.contains("name=\"next\" value=\"/queues\""));

    let signed_in = browser
        .sign_in("", BASIC_USER.0, BASIC_USER.1, Some("/queues"))
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(location(&signed_in), "/queues");
    let cookie = set_cookie(&signed_in, "jobqueue_session");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let id = browser.session().unwrap().clone();
    assert_eq!(id.len(), 43, "256 random bits, base64url");

    // Redis holds a hash of the id, never the id, with the idle TTL.
    let mut conn = env.connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:dashboard:*", env.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        keys,
        vec![format!(
            "{}:dashboard:session:{}",
            env.prefix(),
            sha256_hex(&id)
        )]
    );
    let ttl = session_ttl_ms(&env, &id).await;
    assert!(
        (1_790_000..=1_800_000).contains(&ttl),
        "idle timeout 30 min, got {ttl} ms"
    );

    // Signed in: the page names the user, carries a CSRF token bound to the
    // session, and its forms work.
    let queues = browser.get("/queues").await;
    assert_eq!(queues.status, StatusCode::OK);
    assert!(queues.body.contains(BASIC_USER.0) && queues.body.contains("id=\"sign-out\""));
    let token = csrf_token_in(&queues.body).unwrap();
    let paused = browser
        .post("/queues/default/pause", &[("csrf", &token)])
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    assert!(env.client().admin().queue("default").await.unwrap().paused);
    // The same user's basic-auth token is not the session's.
    let basic_page = jobqueue_integration::dashboard::Dashboard::new(&env, config())
        .csrf_token(jobqueue_integration::dashboard::As::Browser)
        .await;
    let refused = browser
        .post("/queues/default/resume", &[("csrf", &basic_page)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // The page's script calls the API with the session too.
    let api = browser
        .send(
            Method::POST,
            "/api/v1/queues/default/resume",
            &[("x-csrf-token", &token)],
            "",
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);

    // Sign out: needs the sign-out token; then the session is gone.
    let wrong = browser.post("/logout", &[("csrf", &token)]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        session_ttl_ms(&env, &id).await > 0,
        "a wrong token ends nothing"
    );
    let sign_out = form_token(&queues.body[queues.body.find("sign-out-form").unwrap()..]).unwrap();
    let out = browser.post("/logout", &[("csrf", &sign_out)]).await;
    assert_eq!(
        (out.status, location(&out)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert!(set_cookie(&out, "jobqueue_session").contains("Max-Age=0"));
    assert_eq!(
        session_ttl_ms(&env, &id).await,
        -2,
        "the session is deleted"
    );
    // Even a browser that kept the cookie is signed out.
    browser
        .cookies
        .insert("jobqueue_session".into(), id.clone());
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);

    let log = outcomes(&env).await;
    assert!(log.contains(&"done sign_in".to_owned()), "{log:?}");
    assert!(log.contains(&"done sign_out".to_owned()), "{log:?}");
    assert!(log.contains(&"done pause".to_owned()), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_and_at_their_lifetime() {
    let env = test_redis("dash-sign-in-expiry").await;
    let idle = config()
        .session_idle_timeout(Duration::from_secs(1))
        .session_lifetime(Duration::from_secs(60));
    let mut browser = Browser::new(dashboard_router(env.client().admin(), idle));
    browser.sign_in("", BASIC_USER.0, BASIC_USER.1, None).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            browser.get("/").await.status,
            StatusCode::OK,
            "each use renews it"
        );
    }
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        browser.get("/").await.status,
        StatusCode::SEE_OTHER,
        "idle too long"
    );

    let lifetime = config()
        .session_idle_timeout(Duration::from_secs(60))
        .session_lifetime(Duration::from_secs(2));
    let mut browser = Browser::new(dashboard_router(env.client().admin(), lifetime));
    let signed_in = browser.sign_in("", BASIC_USER.0, BASIC_USER.1, None).await;
    assert!(set_cookie(&signed_in, "jobqueue_session").contains("Max-Age=2"));
    let id = browser.session().unwrap().clone();
    assert!(
        session_ttl_ms(&env, &id).await <= 2000,
        "never past the lifetime"
    );
    for _ in 0..3 {
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        browser.get("/").await.status,
        StatusCode::SEE_OTHER,
        "past its lifetime"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_hold_for_sessions_and_removed_credentials_end_them() {
    let env = test_redis("dash-sign-in-roles").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let mut reader = Browser::new(dashboard_router(env.client().admin(), config()));
    reader.sign_in("", READER_USER.0, READER_USER.1, None).await;
    let page = reader.get("/queues").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("read-only"));
    assert_eq!(
        csrf_token_in(&page.body),
        None,
        "read-only users get no CSRF token"
    );
    let refused = reader.post("/queues/default/pause", &[("csrf", "x")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!env.client().admin().queue("default").await.unwrap().paused);
    // A read-only user can still sign out.
    let sign_out = form_token(&page.body[page.body.find("sign-out-form").unwrap()..]).unwrap();
    assert_eq!(
        reader.post("/logout", &[("csrf", &sign_out)]).await.status,
        StatusCode::SEE_OTHER
    );

    // A token signs in too (user name empty), as its label.
    let mut bot = Browser::new(dashboard_router(env.client().admin(), config()));
    let signed_in = bot.sign_in("", "", OPERATOR_TOKEN, None).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert!(bot.get("/").await.body.contains("ci-token"));

    // Another replica whose configuration no longer has the user: the
    // session ends there.
    let mut ops = Browser::new(dashboard_router(env.client().admin(), config()));
    ops.sign_in("", BASIC_USER.0, BASIC_USER.1, None).await;
    let id = ops.session().unwrap().clone();
    let without_ops = DashboardConfig::with_credentials(
        config()
            .credentials()
            .iter()
            .filter(|c| !matches!(c, Credential::Basic { user, .. } if user == BASIC_USER.0))
            .cloned()
            .collect(),
    );
    ops.router = dashboard_router(env.client().admin(), without_ops);
    assert_eq!(ops.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(session_ttl_ms(&env, &id).await, -2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_throttled_across_replicas_and_audited() {
    let env = test_redis("dash-sign-in-throttle").await;
    let throttled = || config().sign_in_attempts(3, 5);
    let mut first = Browser::new(dashboard_router(env.client().admin(), throttled()));
    for _ in 0..3 {
        let wrong = first
            .sign_in("", BASIC_USER.0, "wrong-password", None)
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("Wrong user name or password"));
    }
    // Another replica, another address: the user name is throttled there
    // too, even with the right password.
    let mut second = Browser::new(dashboard_router(env.client().admin(), throttled()));
    second.client = "198.51.100.9:40000".parse().unwrap();
    let refused = second.sign_in("", BASIC_USER.0, BASIC_USER.1, None).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert!(second.session().is_none());
    // Other users are not throttled by it; a success clears its user's count.
    let ok = second.sign_in("", READER_USER.0, READER_USER.1, None).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    // Per address: 5 attempts from the first address (3 made), whatever the user.
    for user in ["a", "b"] {
        assert_eq!(
            first.sign_in("", user, "x", None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = first.sign_in("", READER_USER.0, READER_USER.1, None).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);

    // Token sign-ins (no user name) are counted per address only: one
    // shared count would let anyone lock every token out.
    let mut tokens = Browser::new(dashboard_router(
        env.client().admin(),
        config().sign_in_attempts(1, 100),
    ));
    tokens.client = "192.0.2.1:1".parse().unwrap();
    for _ in 0..2 {
        let wrong = tokens.sign_in("", "", "not-a-token", None).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let token = tokens.sign_in("", "", OPERATOR_TOKEN, None).await;
    assert_eq!(token.status, StatusCode::SEE_OTHER);

    let log = outcomes(&env).await;
    let count = |what: &str| log.iter().filter(|o| o.starts_with(what)).count();
    assert_eq!(count("refused_sign_in "), 7, "{log:?}");
    assert_eq!(count("refused_throttled "), 2, "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_resists_forgery_redirects_and_bad_input() {
    let env = test_redis("dash-sign-in-forms").await;
    let mut browser = Browser::new(dashboard_router(env.client().admin(), config()));
    let page = browser.get("/login").await;
    let token = form_token(&page.body).unwrap();
    let creds = [
        ("csrf", token.as_str()),
        ("user", BASIC_USER.0),
        ("password", BASIC_USER.1),
    ];
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&creds)
        .finish();

    // Login CSRF: another site's post, or a form without the browser's nonce.
    for extra in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
    ] {
        let mut forged = Browser {
            cookies: browser.cookies.clone(),
            ..Browser::new(browser.router.clone())
        };
        let reply = forged.send(Method::POST, "/login", extra, &body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{extra:?}");
        assert!(forged.session().is_none());
    }
    let mut no_nonce = Browser::new(browser.router.clone());
    let reply = no_nonce.send(Method::POST, "/login", &[], &body).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("did not send its cookie"));
    assert!(no_nonce.session().is_none());

    // No open redirect: only paths inside the dashboard.
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ] {
        let mut b = Browser::new(browser.router.clone());
        let reply = b.sign_in("", BASIC_USER.0, BASIC_USER.1, Some(next)).await;
        assert_eq!(
            (reply.status, location(&reply)),
            (StatusCode::SEE_OTHER, "/"),
            "{next:?}"
        );
    }

    // Hostile text is escaped on the page; bad input gets 4xx, never 5xx.
    let hostile = "<script>alert(1)</script>\"'";
    let wrong = browser
        .sign_in("", hostile, "x", Some("/\"><script>"))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        !wrong.body.contains("<script>alert(1)") && wrong.body.contains("&lt;script&gt;alert(1)")
    );
    assert!(!wrong.body.contains("\"><script>"));
    let page = browser
        .get("/login?next=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", vec![0xff, 0xfe, b'=']),
        ("application/json", b"{\"user\":1}".to_vec()),
        ("application/x-www-form-urlencoded", b"%%%&&&==".to_vec()),
        ("application/x-www-form-urlencoded", vec![b'a'; 100_000]),
    ] {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let status = browser
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap()
            .status();
        assert!(status.is_client_error(), "{content_type}: {status}");
    }
    let logout = browser
        .send(Method::POST, "/logout", &[], "csrf=%ff%fe")
        .await;
    assert!(logout.status.is_client_error() || logout.status == StatusCode::SEE_OTHER);

    // API clients keep their credentials.
    let api = browser
        .send(
            Method::GET,
            "/api/v1/stats",
            &[("authorization", &format!("Bearer {OPERATOR_TOKEN}"))],
            "",
        )
        .await;
    assert_eq!(api.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_under_a_base_path_the_cookie_and_links_follow() {
    let env = test_redis("dash-sign-in-nested").await;
    let dashboard = dashboard_router(
        env.client().admin(),
        config().base_path("/admin/jobs").secure_cookies(false),
    );
    let mut browser = Browser::new(Router::new().nest_service("/admin/jobs", dashboard));
    let page = browser.get("/admin/jobs/queues").await;
    assert_eq!(location(&page), "/admin/jobs/login?next=%2Fqueues");
    let signed_in = browser
        .sign_in("/admin/jobs", BASIC_USER.0, BASIC_USER.1, Some("/queues"))
        .await;
    assert_eq!(location(&signed_in), "/admin/jobs/queues");
    let cookie = set_cookie(&signed_in, "jobqueue_session");
    assert!(
        cookie.contains("Path=/admin/jobs;") && !cookie.contains("Secure"),
        "{cookie}"
    );
    let page = browser.get("/admin/jobs/queues").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/admin/jobs/logout\""));
}

/// The host application's state: the dashboard nests in a `Router<S>` of
/// any `S`.
#[derive(Clone)]
struct HostState {
    app_name: &'static str,
}

/// The host application's own authentication: its `app_user` cookie
/// (`name.role`) names the user; it tells the dashboard with a `HostUser`.
async fn host_authentication(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let user = request
        .headers()
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("; ").find_map(|c| c.strip_prefix("app_user=")))
        .and_then(|v| v.split_once('.'))
        .map(|(name, role)| jobqueue_dashboard::HostUser {
            name: name.to_owned(),
            role: if role == "operator" {
                Role::Operator
            } else {
                Role::ReadOnly
            },
        });
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_application_authenticates_for_the_dashboard() {
    let env = test_redis("dash-host-auth").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dashboard = dashboard_router(
        env.client().admin(),
        DashboardConfig::host_auth()
            .host_login_url("/login")
            .base_path("/admin/jobs"),
    );
    let app: Router = Router::new()
        .route(
            "/",
            axum::routing::get(|axum::extract::State(s): axum::extract::State<HostState>| async move {
                s.app_name
            }),
        )
        .nest_service("/admin/jobs", dashboard)
        .layer(axum::middleware::from_fn(host_authentication))
        .with_state(HostState { app_name: "shop" });
    let mut browser = Browser::new(app);
    assert_eq!(browser.get("/").await.body, "shop");

    // Nobody signed in to the host: its login page for pages, 401 for the API.
    let page = browser.get("/admin/jobs/queues?state=dead").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&page),
        "/login?next=%2Fadmin%2Fjobs%2Fqueues%3Fstate%3Ddead"
    );
    assert_eq!(
        browser.get("/admin/jobs/api/v1/stats").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(location(&browser.get("/admin/jobs/login").await), "/login");
    let refused = browser.post("/admin/jobs/queues/default/pause", &[]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // A read-only user of the host: sees, cannot act.
    browser
        .cookies
        .insert("app_user".into(), "grace.read_only".into());
    let page = browser.get("/admin/jobs/queues").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("grace") && page.body.contains("read-only"));
    assert_eq!(csrf_token_in(&page.body), None);
    let refused = browser
        .post("/admin/jobs/queues/default/pause", &[("csrf", "0")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!env.client().admin().queue("default").await.unwrap().paused);

    // An operator of the host: acts with the CSRF token of their page,
    // and the audit log names them.
    browser
        .cookies
        .insert("app_user".into(), "ada.operator".into());
    let page = browser.get("/admin/jobs/queues").await;
    assert!(
        !page.body.contains("sign-out-form"),
        "the host signs its users out"
    );
    let token = csrf_token_in(&page.body).unwrap();
    let paused = browser
        .post("/admin/jobs/queues/default/pause", &[("csrf", &token)])
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    assert!(env.client().admin().queue("default").await.unwrap().paused);
    let forged = browser
        .send(
            Method::POST,
            "/admin/jobs/queues/default/resume",
            &[("origin", "https://evil.example")],
            &format!("csrf={token}"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let entry = &env.client().admin().audit_log(None, 10).await.unwrap();
    assert!(
        entry
            .iter()
            .any(|e| e.actor == "ada" && e.action == "pause"),
        "{entry:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_no_basic_auth_prompt_links_from_elsewhere_reload_and_assets_are_public() {
    let env = test_redis("dash-sign-in-prompt").await;
    let mut browser = Browser::new(dashboard_router(env.client().admin(), config()));
    // The overview's script polling after its session ended: 401, no
    // challenge (a browser would pop up a basic-auth prompt on it).
    let poll = browser
        .send(
            Method::GET,
            "/api/v1/stats",
            &[("accept", "*/*"), ("sec-fetch-mode", "cors")],
            "",
        )
        .await;
    assert_eq!(poll.status, StatusCode::UNAUTHORIZED);
    assert!(!poll.headers.contains_key("www-authenticate"));
    // Other clients keep it.
    let curl = browser
        .send(Method::GET, "/api/v1/stats", &[("accept", "*/*")], "")
        .await;
    assert!(curl.headers.contains_key("www-authenticate"));
    let css = browser
        .send(
            Method::GET,
            "/assets/app.css",
            &[("accept", "text/css")],
            "",
        )
        .await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains("main.sign-in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_authorization_headers_are_throttled_like_sign_ins() {
    use base64::Engine;
    let env = test_redis("sign-in-headers").await;
    let router = dashboard_router(env.client().admin(), config().sign_in_attempts(3, 100));
    let basic = |user: &str, password: &str| {
        let pair = format!("{user}:{password}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let status = |authorization: String, from: &str| {
        let router = router.clone();
        let from: SocketAddr = format!("{from}:40000").parse().unwrap();
        async move {
            let mut request = Request::get("/api/v1/queues")
                .header("host", "localhost")
                .header("authorization", authorization)
                .body(Body::empty())
                .unwrap();
            request.extensions_mut().insert(ConnectInfo(from));
            let response = router.oneshot(request).await.unwrap();
            (
                response.status(),
                response.headers().contains_key("retry-after"),
            )
        }
    };
    let (user, password) = BASIC_USER;
    for guess in 0..3 {
        let wrong = basic(user, &format!("guess-{guess}"));
        assert_eq!(
            status(wrong, "198.51.100.9").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let over = status(basic(user, "guess-3"), "198.51.100.9").await;
    assert_eq!(over, (StatusCode::TOO_MANY_REQUESTS, true));
    // The right password gets the same answer now (no oracle), from the
    // guessing address and from another.
    for from in ["198.51.100.9", "198.51.100.10"] {
        let right = status(basic(user, password), from).await;
        assert_eq!(right.0, StatusCode::TOO_MANY_REQUESTS, "from {from}");
    }
    // Other users and tokens from elsewhere are not held back.
    let reader = status(basic(READER_USER.0, READER_USER.1), "198.51.100.10").await;
    assert_eq!(reader.0, StatusCode::OK);
    let token = status(format!("Bearer {OPERATOR_TOKEN}"), "198.51.100.10").await;
    assert_eq!(token.0, StatusCode::OK);
}
