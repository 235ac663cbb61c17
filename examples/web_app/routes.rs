//! The app's routes: signup and reports hand their slow work to jobs and
//! answer at once; the dashboard lives under /admin/jobs. Handlers return
//! `jobqueue::Error` with `?`: Redis trouble answers 503 (feature `axum`).

use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use jobqueue::dashboard::{Credential, DashboardConfig, Role, dashboard_router};
use jobqueue::{Client, Error};
use serde::Deserialize;
use uuid::Uuid;

use crate::jobs::{BuildReport, SendEmail};

/// The whole app; `admin_password` signs `admin` in to the dashboard.
pub fn router(jobs: Client, admin_password: String) -> Router {
    let admin = Credential::basic("admin", admin_password, Role::Operator);
    let dashboard = DashboardConfig::with_credentials(vec![admin]).base_path("/admin/jobs");
    Router::new()
        .route("/signup", post(sign_up))
        .route("/reports", post(start_report))
        .route("/reports/{id}", get(report))
        .nest_service("/admin/jobs", dashboard_router(jobs.admin(), dashboard))
        .with_state(jobs)
}

#[derive(Deserialize)]
struct Signup {
    email: String,
}

async fn sign_up(
    State(jobs): State<Client>,
    Form(form): Form<Signup>,
) -> Result<StatusCode, Error> {
    if !form.email.contains('@') {
        return Ok(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let email = |subject: &str| SendEmail {
        to: form.email.clone(),
        subject: subject.into(),
    };
    // Tagged, so support finds a sign-up's e-mails in the dashboard's
    // search (or `jobqueue jobs search --tag signup`).
    jobs.job(email("Welcome!"))
        .tags(["signup", "mail:welcome"])
        .enqueue()
        .await?;
    jobs.job(email("Finish setting up"))
        .delay(Duration::from_secs(10))
        .tags(["signup", "mail:reminder"])
        .enqueue()
        .await?;
    Ok(StatusCode::ACCEPTED)
}

async fn start_report(State(jobs): State<Client>) -> Result<Response, Error> {
    let id = jobs.enqueue(BuildReport { pages: 5 }).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id }))).into_response())
}

/// `{"state": "queued" | "running" | "succeeded" | …, "progress": …, "result": …}`
async fn report(State(jobs): State<Client>, Path(id): Path<Uuid>) -> Result<Response, Error> {
    Ok(match jobs.status(id).await? {
        Some(status) => Json(status).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    })
}
