//! Job search in the dashboard and the JSON API: hostile tags and payload
//! fields escaped on the search, list and job pages; bad searches are 4xx;
//! bulk actions on a search page need the operator role (API) and the
//! CSRF token (form), and are written to the audit log.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use jobqueue_integration::dashboard::{As, Dashboard, audit_actions, operator_config};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::test_redis;

const HOSTILE: &str = "<script>alert('pwned')</script>";

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tags_and_fields_are_escaped_in_search_and_job_pages() {
    let env = test_redis("dash-search-xss").await;
    let client = env.client();
    let id = client
        .job(NoopJob { n: 4711 })
        .tags([HOSTILE, "customer:4711"])
        .delay(Duration::from_secs(600))
        .enqueue()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let pages = [
        format!("/queues/default/search?by=tag&q={}", encoded(HOSTILE)),
        format!(
            "/queues/default/search?by=field&q={}",
            encoded("args.n = 4711")
        ),
        format!("/queues/default/search?by=type&q={}", encoded(HOSTILE)),
        format!("/queues/default/job/{id}"),
    ];
    for path in &pages {
        let reply = dash.get(path, As::Reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(
            !reply.body.contains("<script>alert"),
            "{path} leaks markup:\n{}",
            reply.body
        );
    }
    for path in &pages[..2] {
        let body = dash.get(path, As::Reader).await.body;
        assert!(
            body.contains("&lt;script&gt;alert"),
            "{path} shows the tag as text"
        );
        assert!(body.contains(&id.to_string()[24..]), "{path} lists the job");
        assert!(body.contains("search-summary"), "{path}");
    }
    let job_page = dash.get(&pages[3], As::Reader).await.body;
    assert!(job_page.contains("job-tags") && job_page.contains("customer:4711"));

    let api = dash
        .get(
            &format!("/api/v1/queues/default/search?tag={}", encoded(HOSTILE)),
            As::Reader,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let page = api.json();
    assert_eq!(page["hits"][0]["id"], id.to_string());
    assert_eq!(
        page["hits"][0]["job"]["tags"][0], HOSTILE,
        "the API returns the tag as data"
    );
    assert_eq!(page["indexed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_searches_are_4xx() {
    let env = test_redis("dash-search-bad").await;
    env.client().enqueue(NoopJob { n: 1 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());
    for path in [
        "/api/v1/queues/default/search".to_owned(),
        "/api/v1/queues/default/search?tag=a&type=b".to_owned(),
        format!("/api/v1/queues/default/search?tag={}", "x".repeat(65)),
        "/api/v1/queues/default/search?id=zz".to_owned(),
        "/api/v1/queues/default/search?field=nothing".to_owned(),
        "/api/v1/queues/default/search?type=a&budget=0".to_owned(),
        "/api/v1/queues/default/search?type=a&budget=100001".to_owned(),
        "/api/v1/queues/default/search?type=a&cursor=q1".to_owned(),
        "/api/v1/queues/default/search?tag=a&cursor=not-an-id".to_owned(),
        "/api/v1/queues/default/search?by=color&q=red".to_owned(),
        "/queues/default/search?by=id&q=%3Cscript%3E".to_owned(),
    ] {
        let reply = dash.get(&path, As::Reader).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        // A browser gets an error page, with the bad input as text.
        let page = dash.get(&path, As::Browser).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        if page.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
        {
            assert!(!page.body.contains("<script>"), "{path}: {}", page.body);
        }
    }
    let unknown = dash
        .get("/api/v1/queues/nope/search?tag=a", As::Reader)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let form_only = dash.get("/queues/default/search", As::Reader).await;
    assert_eq!(form_only.status, StatusCode::OK);
    assert!(form_only.body.contains("search-form"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_on_a_search_need_the_operator_and_the_csrf_token() {
    let env = test_redis("dash-search-bulk").await;
    let client = env.client();
    for n in 0..6 {
        client
            .job(NoopJob { n })
            .tags(["import:2026-11"])
            .delay(Duration::from_secs(600))
            .enqueue()
            .await
            .unwrap();
    }
    let dash = Dashboard::new(&env, operator_config());
    let action = "/api/v1/queues/default/search/delete?tag=import:2026-11&limit=4";
    let refused = dash.send(Method::POST, action, As::Reader, &[], "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let no_token = dash
        .send(
            Method::POST,
            "/queues/default/search/bulk",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            "action=delete&by=tag&q=import%3A2026-11",
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "{}", no_token.body);
    assert_eq!(
        client.admin().queue("default").await.unwrap().scheduled,
        6,
        "nothing changed"
    );

    let done = dash.send(Method::POST, action, As::Operator, &[], "").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let report = done.json();
    assert_eq!(
        (report["found"].as_u64(), report["changed"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(report["next_cursor"].is_string());
    let bad_action = dash
        .send(
            Method::POST,
            "/api/v1/queues/default/search/explode?tag=a",
            As::Operator,
            &[],
            "",
        )
        .await;
    assert_eq!(bad_action.status, StatusCode::BAD_REQUEST);

    let form = dash
        .post_form(
            "/queues/default/search/bulk",
            "action=retry&by=tag&q=import%3A2026-11",
        )
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    let location = form.headers["location"].to_str().unwrap();
    assert!(
        location.contains("/queues/default/search?by=tag") && location.contains("n=2"),
        "{location}"
    );
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!(
        (info.scheduled, info.ready),
        (0, 2),
        "the other two run now"
    );
    let audit = audit_actions(&env, 10).await;
    assert!(audit.iter().any(|a| a.contains("delete")), "{audit:?}");
    assert!(audit.iter().any(|a| a.contains("retry")), "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_page_shows_and_links_the_jobs_of_the_batch() {
    let env = test_redis("dash-search-batch").await;
    let client = env.client();
    let batch = client.batch().create().await.unwrap();
    let ids = batch
        .add((0..3).map(|n| NoopJob { n: 100 + n }))
        .await
        .unwrap();
    batch.seal().await.unwrap();
    let other = client.batch().create().await.unwrap();
    let other_ids = other.add([NoopJob { n: 200 }]).await.unwrap();
    let plain = client.enqueue(NoopJob { n: 300 }).await.unwrap();
    let dash = Dashboard::new(&env, operator_config());

    let batch_page = dash
        .get(
            &format!("/queues/default/batches/{}", batch.id()),
            As::Reader,
        )
        .await;
    assert_eq!(batch_page.status, StatusCode::OK, "{}", batch_page.body);
    let link = format!("/queues/default/search?by=batch&amp;q={}", batch.id());
    assert!(
        batch_page.body.contains("batch-jobs-search") && batch_page.body.contains(&link),
        "the Jobs section links to the batch search ({link}):\n{}",
        batch_page.body
    );
    let shown = |body: &str, id: &uuid::Uuid| body.contains(&id.to_string()[24..]);
    assert!(batch_page.body.contains("id=\"batch-jobs\""));
    assert!(ids.iter().all(|id| shown(&batch_page.body, id)));
    assert!(!shown(&batch_page.body, &other_ids[0]) && !shown(&batch_page.body, &plain));

    let search = dash
        .get(
            &format!("/queues/default/search?by=batch&q={}", batch.id()),
            As::Reader,
        )
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.body);
    assert!(ids.iter().all(|id| shown(&search.body, id)));
    assert!(!shown(&search.body, &other_ids[0]) && !shown(&search.body, &plain));
    assert!(search.body.contains("<option value=\"batch\" selected"));

    let api = dash
        .get(
            &format!("/api/v1/queues/default/search?batch={}", batch.id()),
            As::Reader,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let page = api.json();
    let mut found: Vec<String> = page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    found.sort();
    let mut wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    wanted.sort();
    assert_eq!(found, wanted);
    assert_eq!(page["indexed"], false);

    // A bulk cancel on the batch search (API, operator) cancels its jobs only.
    let cancel = dash
        .send(
            Method::POST,
            &format!(
                "/api/v1/queues/default/search/cancel?by=batch&q={}",
                other.id()
            ),
            As::Operator,
            &[],
            "",
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    assert_eq!(cancel.json()["changed"].as_u64(), Some(1));
    assert_eq!(client.admin().queue("default").await.unwrap().ready, 4);

    for path in [
        "/api/v1/queues/default/search?batch=not-a-uuid".to_owned(),
        "/api/v1/queues/default/search?by=batch&q=1234".to_owned(),
        format!("/api/v1/queues/default/search?batch={}&tag=a", batch.id()),
        "/queues/default/search?by=batch&q=%3Cscript%3E".to_owned(),
    ] {
        let reply = dash.get(&path, As::Reader).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        let page = dash.get(&path, As::Browser).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        if page.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
        {
            assert!(!page.body.contains("<script>"), "{path}: {}", page.body);
        }
    }
}
