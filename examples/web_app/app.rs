//! The web app's routes: a signup form that hands slow work to jobs and
//! answers at once, a job status page, and an admin area behind a token.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use jobqueue::dashboard::{DashboardConfig, HostUser, Role};
use jobqueue::{Client, ErrorKind, JobState, JobStatusState, PreparedJob};
use serde::Deserialize;
use uuid::Uuid;

use super::jobs::{MakeThumbnail, SendWelcomeEmail};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The jobqueue client (one connection, shared by all requests).
    pub jobs: Client,
    /// Bearer token of the admin area.
    pub admin_token: Arc<str>,
}

/// The whole app.
pub fn router(state: AppState) -> Router {
    let admin: Router<AppState> = Router::new()
        .route("/", get(admin_home))
        // The jobqueue dashboard, mounted inside /admin so the auth layer
        // below guards it like the rest of the admin area. `require_admin`
        // tells it who the user is (a `HostUser`), so it needs no
        // credentials of its own.
        .nest_service(
            "/jobs",
            jobqueue::dashboard::dashboard_router(
                state.jobs.admin(),
                DashboardConfig::behind_host_auth(Role::ReadOnly).base_path("/admin/jobs"),
            ),
        )
        // With its own fallback and `layer` (not `route_layer`), the auth
        // check also guards nested routers and unknown paths under /admin.
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), require_admin));
    Router::new()
        .route("/", get(signup_form))
        .route("/signup", post(sign_up))
        .route("/jobs/{queue}/{id}", get(job_status))
        .nest("/admin", admin)
        .with_state(state)
}

async fn signup_form() -> Html<&'static str> {
    Html(
        r#"<!doctype html><title>Sign up</title>
<h1>Sign up</h1>
<form method="post" action="/signup">
  <label>Name <input name="name" required></label><br>
  <label>E-mail <input name="email" type="email" required></label><br>
  <label>Avatar URL <input name="avatar_url" type="url" placeholder="https://…/me.png"></label><br>
  <button>Create account</button>
</form>"#,
    )
}

/// The signup form's fields.
#[derive(Debug, Deserialize)]
pub struct Signup {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub avatar_url: String,
}

impl Signup {
    /// What is wrong with the input, if anything.
    fn problem(&self) -> Option<&'static str> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 100 {
            return Some("a name of 1-100 characters is required");
        }
        let email = self.email.trim();
        if email.len() > 254
            || !email.contains('@')
            || email.starts_with('@')
            || email.ends_with('@')
        {
            return Some("a valid e-mail address is required");
        }
        let avatar = self.avatar_url.trim();
        let web_url = avatar.starts_with("https://") || avatar.starts_with("http://");
        if !avatar.is_empty() && !web_url {
            return Some("the avatar URL must start with http:// or https://");
        }
        None
    }
}

/// Creates the account (here: a new id) and enqueues the slow work — the
/// welcome e-mail and the avatar thumbnail — in one round trip, then
/// answers at once with links to follow the jobs. Each job gets its id
/// here, before the first attempt, so the enqueue can be retried safely
/// (see [`enqueue_with_retries`]).
async fn sign_up(State(state): State<AppState>, Form(form): Form<Signup>) -> Response {
    if let Some(problem) = form.problem() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(format!("<p>{problem}</p>")),
        )
            .into_response();
    }
    let user_id = Uuid::now_v7();
    let email = state.jobs.job(SendWelcomeEmail {
        user_id,
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_owned(),
    });
    // `.track()`: keep a status (state, progress, result) for the status
    // page. `.id(…)`: the job's id, chosen now and kept for the retries.
    let mut jobs = vec![email.id(Uuid::now_v7()).track().prepare()];
    let avatar = form.avatar_url.trim();
    if !avatar.is_empty() {
        let thumbnail = MakeThumbnail {
            user_id,
            avatar_url: avatar.to_owned(),
        };
        jobs.push(
            state
                .jobs
                .job(thumbnail)
                .id(Uuid::now_v7())
                .track()
                .prepare(),
        );
    }
    let prepared = match jobs.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(prepared) => prepared,
        Err(err) => return server_error(&err),
    };
    let links: Vec<String> = prepared
        .iter()
        .map(|job| {
            format!(
                r#"<li><a href="/jobs/{}/{}">{} job</a></li>"#,
                job.queue(),
                job.id(),
                job.queue()
            )
        })
        .collect();
    if let Err(err) = enqueue_with_retries(&state.jobs, prepared).await {
        return server_error(&err);
    }
    let body = format!(
        "<!doctype html><title>Welcome</title><h1>Welcome!</h1>\
         <p>Your account is ready. We are sending your welcome e-mail now.</p><ul>{}</ul>",
        links.join("")
    );
    (StatusCode::ACCEPTED, Html(body)).into_response()
}

/// Enqueues `jobs`, retrying a few times when Redis fails. A failure may
/// come after Redis stored the jobs (a timeout, a connection dropped
/// mid-request: [`jobqueue::ErrorKind::OutcomeUnknown`]); because every
/// job carries its id, a retry sends the same ids and Redis enqueues each
/// job at most once — a retry of a job already stored is a no-op, so the
/// user never gets two welcome e-mails.
pub async fn enqueue_with_retries(
    client: &Client,
    jobs: Vec<PreparedJob>,
) -> Result<Vec<Uuid>, jobqueue::Error> {
    const ATTEMPTS: u32 = 3;
    let mut attempt = 1;
    loop {
        match client.enqueue_prepared(jobs.clone()).await {
            Ok(ids) => return Ok(ids),
            Err(err)
                if attempt < ATTEMPTS
                    && matches!(
                        err.kind(),
                        ErrorKind::Unavailable | ErrorKind::OutcomeUnknown
                    ) =>
            {
                tracing::warn!(error = %err, attempt, "enqueue failed; retrying with the same job ids");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Where a job is, its progress, and its result once done.
///
/// The jobs report progress and results through jobqueue
/// (`ctx.set_progress`, `ctx.set_result`, read back with
/// `client.status(id)`); where a job waits and its error history come
/// from the operator API.
async fn job_status(
    State(state): State<AppState>,
    Path((queue, id)): Path<(String, Uuid)>,
) -> Response {
    let status = match state.jobs.status(id).await {
        Ok(status) => status,
        Err(err) => return server_error(&err),
    };
    if let Some(status) = &status
        && status.state == JobStatusState::Succeeded
    {
        return Json(serde_json::json!({
            "id": id,
            "queue": queue,
            "state": "done",
            "result": status.result,
        }))
        .into_response();
    }
    let progress = status.and_then(|status| status.progress);
    match state.jobs.admin().job(&queue, id).await {
        Ok(Some(info)) => {
            let state_name = match info.state {
                JobState::Scheduled => "scheduled",
                JobState::Retry => "retrying",
                JobState::Dead => "dead",
                JobState::Ready | JobState::Active => "queued_or_running",
                other => other.as_str(),
            };
            Json(serde_json::json!({
                "id": id,
                "queue": queue,
                "state": state_name,
                "attempt": info.attempt,
                "errors": info.errors.iter().map(|e| &e.message).collect::<Vec<_>>(),
                "progress": progress,
            }))
            .into_response()
        }
        Ok(None) => Json(serde_json::json!({
            "id": id,
            "queue": queue,
            "state": "queued_or_running",
            "progress": progress,
        }))
        .into_response(),
        Err(err) if err.kind() == jobqueue::ErrorKind::InvalidArgument => {
            (StatusCode::NOT_FOUND, "no such queue").into_response()
        }
        Err(err) => server_error(&err),
    }
}

/// Lets a request into /admin only with `Authorization: Bearer <token>`.
async fn require_admin(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if presented
        .is_some_and(|token| constant_time_eq(token.as_bytes(), state.admin_token.as_bytes()))
    {
        // Tell the dashboard who this is: the app's admin may operate.
        request.extensions_mut().insert(HostUser {
            name: "admin".to_owned(),
            role: Role::Operator,
        });
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "admin token required",
        )
            .into_response()
    }
}

/// Compares without stopping at the first difference (no timing hint).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

async fn admin_home() -> Html<&'static str> {
    Html(
        r#"<!doctype html><title>Admin</title><h1>Admin</h1><p><a href="/admin/jobs">Jobs</a></p>"#,
    )
}

fn server_error(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %err, "request failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the job queue is unavailable; please try again",
    )
        .into_response()
}
