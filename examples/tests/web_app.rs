//! The web_app example: its routes driven with `tower::ServiceExt::oneshot`
//! against the test Redis, its jobs drained inline through its own worker
//! (with its state). Each test has its own key prefix and its own state,
//! so they run in parallel.

#[path = "../web_app/jobs.rs"]
mod jobs;
#[path = "../web_app/routes.rs"]
mod routes;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jobqueue::JobState;
use jobqueue::testing::{DrainOptions, TestRedis};
use jobs::{BuildReport, ChargeCard, ImportFeed, Mailer, SendEmail};
use tower::ServiceExt;

const PASSWORD: &str = "a-test-password-of-16+";

async fn send(t: &TestRedis, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let app = routes::router(t.client(), PASSWORD.to_owned());
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

fn signup(form: &str) -> Request<Body> {
    Request::post("/signup")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn signup_enqueues_the_welcome_email_now_and_a_reminder_in_ten_seconds()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-signup").await?;
    let (status, _) = send(&t, signup("email=ada%40example.com")).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let emails = t.assert_enqueued_count::<SendEmail>(2).await;
    let (welcome, reminder) = (&emails[0], &emails[1]);
    assert_eq!(welcome.job.to, "ada@example.com");
    assert_eq!(welcome.job.subject, "Welcome!");
    assert_eq!(welcome.state, JobState::Ready);
    assert_eq!(reminder.state, JobState::Scheduled);
    let due_in = reminder.at.expect("a due time") - chrono::Utc::now();
    assert!((8..=10).contains(&due_in.num_seconds()), "due in {due_in}");
    let tagged = t
        .client()
        .admin()
        .search(
            "mail",
            &jobqueue::admin::SearchQuery::tag("signup")?,
            None,
            10,
            10,
        )
        .await?;
    assert_eq!(tagged.hits.len(), 2, "both e-mails are found by their tag");

    let (status, _) = send(&t, signup("email=not-an-address")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    t.assert_enqueued_count::<SendEmail>(2).await;

    let report = t.drain(jobs::worker(t.client(), Mailer)).await?;
    assert_eq!(
        report.succeeded(),
        1,
        "the welcome e-mail ran with the mailer"
    );
    Ok(())
}

#[tokio::test]
async fn a_report_is_queued_at_once_and_its_result_readable_when_done()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-report").await?;
    let (status, body) = send(&t, Request::post("/reports").body(Body::empty())?).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = body["id"].as_str().expect("an id").to_owned();

    let (status, queued) = send(&t, get(&format!("/reports/{id}"))).await;
    assert_eq!(
        (status, queued["state"].as_str()),
        (StatusCode::OK, Some("queued"))
    );

    t.drain(jobs::worker(t.client(), Mailer)).await?;
    let (_, done) = send(&t, get(&format!("/reports/{id}"))).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["progress"]["percent"], 100, "{done}");
    assert_eq!(
        done["result"]["pages"],
        BuildReport { pages: 5 }.pages,
        "{done}"
    );

    let unknown = uuid::Uuid::now_v7();
    let (status, _) = send(&t, get(&format!("/reports/{unknown}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn the_flaky_charge_succeeds_on_its_third_attempt_and_the_feed_import_dies()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-failures").await?;
    t.client().enqueue(ChargeCard { order: 1 }).await?;
    t.client()
        .enqueue(ImportFeed {
            url: "https://example.com/broken.xml".into(),
        })
        .await?;

    let report = t
        .drain_with(
            jobs::worker(t.client(), Mailer),
            DrainOptions::new().with_retries(),
        )
        .await?;
    let charge_attempts: Vec<_> = report.runs_of("charge_card").collect();
    assert_eq!(charge_attempts.len(), 3);
    assert_eq!(report.dead(), 1);
    let dead = t.dead::<ImportFeed>().await?;
    assert_eq!(dead.len(), 1, "the feed import rests in the dead set");
    Ok(())
}

#[tokio::test]
async fn the_dashboard_asks_a_browser_to_sign_in() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-admin").await?;
    let app = routes::router(t.client(), PASSWORD.to_owned());
    let page = Request::get("/admin/jobs/")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())?;
    let response = app.oneshot(page).await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str()?;
    assert!(location.starts_with("/admin/jobs/login"), "{location}");
    Ok(())
}
