//! The web_app example's router, driven with `tower::ServiceExt::oneshot`
//! against the test Redis; its jobs drained inline with jobqueue-testing.

#[path = "../web_app/app.rs"]
#[allow(dead_code)]
mod app;
#[path = "../web_app/jobs.rs"]
#[allow(dead_code)]
mod jobs;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jobqueue::testing::TestRedis;
use jobs::{MakeThumbnail, SendWelcomeEmail};
use tower::ServiceExt;

const TOKEN: &str = "test-admin-token";

fn app(t: &TestRedis) -> axum::Router {
    app::router(app::AppState {
        jobs: t.client(),
        admin_token: TOKEN.into(),
    })
}

async fn send(router: axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
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

async fn status_of(t: &TestRedis, link: &str) -> serde_json::Value {
    let (status, body) = send(app(t), get(link)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("status is JSON")
}

/// The `/jobs/…` links of a signup page.
fn job_links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|link| link.starts_with("/jobs/"))
        .map(str::to_owned)
        .collect()
}

// The only test here that runs jobs: they reach Redis through a
// process-wide static, set to this test's client.
#[tokio::test]
async fn signup_answers_at_once_and_its_jobs_show_their_progress()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app").await?;

    let started = Instant::now();
    let (status, page) = send(
        app(&t),
        signup("name=Ada&email=ada%40example.com&avatar_url=https%3A%2F%2Fexample.com%2Fada.png"),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::ACCEPTED, "{page}");
    // The jobs sleep 300-500 ms; the request must not wait for them.
    assert!(took < Duration::from_secs(2), "signup took {took:?}");

    let email = t
        .assert_enqueued::<SendWelcomeEmail>(|job| job.email == "ada@example.com")
        .await;
    assert_eq!(email.job.name, "Ada");
    let thumb = t
        .assert_enqueued::<MakeThumbnail>(|job| job.avatar_url == "https://example.com/ada.png")
        .await;
    assert_eq!(thumb.job.user_id, email.job.user_id);
    let links = job_links(&page);
    assert_eq!(
        links,
        [
            format!("/jobs/mail/{}", email.id),
            format!("/jobs/images/{}", thumb.id)
        ]
    );
    for link in &links {
        assert_eq!(status_of(&t, link).await["state"], "queued_or_running");
    }

    let report = t.drain(jobs::worker(t.client())).await?;
    assert_eq!(report.succeeded(), 2);
    let done = status_of(&t, &links[1]).await;
    assert_eq!(done["state"], "done");
    let thumbnail = format!(
        "https://cdn.example.com/thumbs/{}-128.webp",
        email.job.user_id
    );
    assert_eq!(done["result"]["thumbnail_url"], thumbnail.as_str());
    assert_eq!(
        status_of(&t, &links[0]).await["result"]["sent_to"],
        "ada@example.com"
    );

    // An avatar that is no image: the thumbnail job dies at once, and the
    // status page says why.
    let (_, page) = send(
        app(&t),
        signup("name=Bob&email=bob%40example.com&avatar_url=https%3A%2F%2Fexample.com%2Fbob.exe"),
    )
    .await;
    let links = job_links(&page);
    t.drain(jobs::worker(t.client())).await?;
    let dead = status_of(&t, &links[1]).await;
    assert_eq!(dead["state"], "dead");
    assert_eq!(
        dead["errors"][0],
        "https://example.com/bob.exe is not a PNG, JPEG or WebP image"
    );
    Ok(())
}

/// The signup's enqueue is retried with the same job ids: sending the same
/// prepared jobs again — as after a timeout whose first attempt was in fact
/// stored — enqueues nothing more.
#[tokio::test]
async fn a_retried_signup_enqueue_stores_each_job_once() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-retry").await?;
    let client = t.client();
    let user_id = uuid::Uuid::now_v7();
    let jobs = vec![
        client
            .job(SendWelcomeEmail {
                user_id,
                name: "Ada".into(),
                email: "ada@example.com".into(),
            })
            .id(uuid::Uuid::now_v7())
            .prepare()?,
        client
            .job(MakeThumbnail {
                user_id,
                avatar_url: "https://example.com/ada.png".into(),
            })
            .id(uuid::Uuid::now_v7())
            .prepare()?,
    ];
    let first = app::enqueue_with_retries(&client, jobs.clone()).await?;
    let again = app::enqueue_with_retries(&client, jobs).await?;
    assert_eq!(first, again, "the retry answers with the same jobs");
    t.assert_enqueued_count::<SendWelcomeEmail>(1).await;
    t.assert_enqueued_count::<MakeThumbnail>(1).await;
    Ok(())
}

#[tokio::test]
async fn bad_signups_are_refused_and_enqueue_nothing() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-bad").await?;
    for form in [
        "name=&email=ada%40example.com",
        "name=Ada&email=not-an-address",
        "name=Ada&email=ada%40example.com&avatar_url=ftp%3A%2F%2Fx%2Fa.png",
    ] {
        let (status, body) = send(app(&t), signup(form)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form}: {body}");
    }
    let (status, _) = send(app(&t), signup("email=ada%40example.com")).await;
    assert!(status.is_client_error(), "a missing field is refused");
    t.assert_enqueued_count::<SendWelcomeEmail>(0).await;
    t.assert_enqueued_count::<MakeThumbnail>(0).await;

    // Without an avatar only the e-mail is sent.
    let (status, page) = send(app(&t), signup("name=Ada&email=ada%40example.com")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(job_links(&page).len(), 1);
    t.assert_enqueued_count::<MakeThumbnail>(0).await;
    Ok(())
}

#[tokio::test]
async fn the_admin_area_needs_the_token() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-admin").await?;
    send(app(&t), signup("name=Ada&email=ada%40example.com")).await;

    let (status, _) = send(app(&t), get("/admin/jobs")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong = Request::get("/admin/jobs")
        .header(header::AUTHORIZATION, "Bearer nope")
        .body(Body::empty())?;
    assert_eq!(send(app(&t), wrong).await.0, StatusCode::UNAUTHORIZED);

    // The embedded dashboard answers behind the app's token: its HTML
    // overview, and its JSON API under the same mount.
    let right = Request::get("/admin/jobs")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())?;
    let (status, body) = send(app(&t), right).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("/admin/jobs/"),
        "links carry the mount path: {body}"
    );
    let api = Request::get("/admin/jobs/api/v1/queues")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())?;
    let (status, body) = send(app(&t), api).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let queues: serde_json::Value = serde_json::from_str(&body)?;
    let mail = queues
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["name"] == "mail"))
        .ok_or("no mail queue listed")?;
    assert_eq!(mail["ready"], 1);

    let (status, _) = send(
        app(&t),
        get("/jobs/no%20such%20queue/00000000-0000-0000-0000-000000000000"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn unknown_admin_paths_are_behind_the_token_too() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("web-app-admin-paths").await?;
    let (status, _) = send(app(&t), get("/admin/jobs/queues/mail")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a nested dashboard path needs the token"
    );
    let (status, _) = send(app(&t), get("/admin")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let with_token = Request::get("/admin/jobs/no-such-page")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())?;
    assert_eq!(send(app(&t), with_token).await.0, StatusCode::NOT_FOUND);
    Ok(())
}
