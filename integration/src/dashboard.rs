//! Fixtures for dashboard tests: a dashboard router over a [`TestRedis`],
//! requests sent straight into it (no sockets), and dead jobs made the
//! real way (jobs that fail, drained through the worker's run path).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use jobqueue_core::Job;
use jobqueue_dashboard::{Credential, DashboardConfig, Role, dashboard_router};
use jobqueue_testing::{DEFAULT_DRAIN_LIMIT, DrainOptions, InlineOutcome, TestRedis};
use tower::ServiceExt;

use crate::in_process_worker::test_worker;
use crate::jobs::FailingJob;

/// Operator bearer token of [`operator_config`].
pub const OPERATOR_TOKEN: &str = "operator-token-0123456789";
/// Read-only bearer token of [`operator_config`].
pub const READER_TOKEN: &str = "reader-token-0123456789";
/// Operator basic-auth user and password of [`operator_config`].
pub const BASIC_USER: (&str, &str) = ("ops", "s3cret-pass");

/// A config with an operator token, a read-only token and an operator
/// basic-auth user; snapshot max age 1 s.
pub fn operator_config() -> DashboardConfig {
    DashboardConfig::with_credentials(vec![
        Credential::Bearer {
            token: OPERATOR_TOKEN.to_owned(),
            label: "ci-token".to_owned(),
            role: Role::Operator,
        },
        Credential::Bearer {
            token: READER_TOKEN.to_owned(),
            label: "reader".to_owned(),
            role: Role::ReadOnly,
        },
        Credential::Basic {
            user: BASIC_USER.0.to_owned(),
            password: BASIC_USER.1.to_owned(),
            role: Role::Operator,
        },
    ])
    .snapshot_max_age(Duration::from_secs(1))
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum As {
    /// No credentials.
    Nobody,
    /// The operator bearer token.
    Operator,
    /// The read-only bearer token.
    Reader,
    /// The operator basic-auth user (as a browser would send it).
    Browser,
}

/// A response, body read as text.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A dashboard router over one test's Redis prefix.
pub struct Dashboard {
    /// The router under test.
    pub router: Router,
}

impl Dashboard {
    /// The dashboard for `env` with `config`.
    pub fn new(env: &TestRedis, config: DashboardConfig) -> Self {
        Self {
            router: dashboard_router(env.client().admin(), config),
        }
    }

    /// Sends one request.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        who: As,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        match who {
            As::Nobody => {}
            As::Operator => {
                request = request.header("authorization", format!("Bearer {OPERATOR_TOKEN}"))
            }
            As::Reader => {
                request = request.header("authorization", format!("Bearer {READER_TOKEN}"))
            }
            As::Browser => {
                let pair = base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", BASIC_USER.0, BASIC_USER.1));
                request = request.header("authorization", format!("Basic {pair}"));
            }
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body.to_owned())).expect("request"))
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// GET as `who`.
    pub async fn get(&self, path: &str, who: As) -> Reply {
        self.send(Method::GET, path, who, &[], "").await
    }

    /// POSTs a UI form (`fields` urlencoded, may be empty) as the
    /// basic-auth browser user, with the CSRF token.
    pub async fn post_form(&self, path: &str, fields: &str) -> Reply {
        let token = self.csrf_token(As::Browser).await;
        let body = if fields.is_empty() {
            format!("csrf={token}")
        } else {
            format!("csrf={token}&{fields}")
        };
        let form = ("content-type", "application/x-www-form-urlencoded");
        self.send(Method::POST, path, As::Browser, &[form], &body)
            .await
    }

    /// The CSRF token the pages carry (read from the overview's meta tag).
    pub async fn csrf_token(&self, who: As) -> String {
        self.page_csrf_token(who).await.expect("csrf meta tag")
    }

    /// The CSRF token of the overview's meta tag, if the page has one.
    pub async fn page_csrf_token(&self, who: As) -> Option<String> {
        csrf_token_in(&self.get("/", who).await.body)
    }
}

/// The CSRF token of a page's meta tag, if it has one.
pub fn csrf_token_in(page: &str) -> Option<String> {
    let marker = "name=\"csrf-token\" content=\"";
    let start = page.find(marker)? + marker.len();
    let len = page[start..].find('"')?;
    Some(page[start..start + len].to_owned())
}

/// The dashboard configuration `jobqueue serve <args>` builds (as the
/// binary does, `JOBQUEUE_DASHBOARD_*` variables of this process apply too).
pub fn serve_config(args: &[&str]) -> DashboardConfig {
    use clap::Parser;
    use jobqueue_cli::cli::{Cli, Command};
    let argv = ["jobqueue", "serve"].iter().chain(args);
    let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("serve {args:?}: {e}"));
    let Command::Serve(serve_args) = cli.command else {
        unreachable!("parsed as serve")
    };
    jobqueue_cli::commands::serve::plan(&serve_args)
        .unwrap_or_else(|e| panic!("serve {args:?} refused: {}", e.message))
}

/// The newest `n` actions carried out (refusals left out) in the audit
/// log, as `"<action> <target>"`.
pub async fn audit_actions(env: &TestRedis, n: usize) -> Vec<String> {
    env.client()
        .admin()
        .audit_log(None, 1000)
        .await
        .expect("audit log")
        .iter()
        .filter(|e| e.outcome == jobqueue_core::admin::OUTCOME_DONE)
        .take(n)
        .map(|e| format!("{} {}", e.action, e.target))
        .collect()
}

/// Enqueues one [`FailingJob`] per message on queue `default` and drains
/// that queue, so each dies on its one run, the way a worker runs it.
/// Returns their ids.
pub async fn make_dead_jobs(env: &TestRedis, messages: &[String], note: &str) -> Vec<uuid::Uuid> {
    let jobs: Vec<FailingJob> = messages
        .iter()
        .map(|m| FailingJob {
            message: m.clone(),
            note: note.to_owned(),
        })
        .collect();
    let admin = env.client().admin();
    let before = admin.queue("default").await.map(|q| q.dead).unwrap_or(0);
    let ids = env.client().enqueue_bulk(jobs).await.expect("enqueue");
    let report = env
        .drain_with(
            test_worker(env).register::<FailingJob>(),
            DrainOptions::new()
                .queues(["default"])
                .max_jobs(ids.len() + DEFAULT_DRAIN_LIMIT),
        )
        .await
        .expect("drain queue default");
    let died = report
        .runs_of(FailingJob::NAME)
        .filter(|run| matches!(run.outcome, InlineOutcome::Dead { .. }))
        .count();
    assert_eq!(
        died,
        ids.len(),
        "each failing job dies on its run: {report:?}"
    );
    let dead = admin.queue("default").await.map(|q| q.dead).unwrap_or(0);
    assert!(
        dead >= before + ids.len() as u64,
        "the failing jobs are all dead"
    );
    ids
}
