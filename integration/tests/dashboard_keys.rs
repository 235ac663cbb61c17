//! Keyed flow control in the dashboard and the JSON API, against real
//! Redis: the limits of key classes shown, set and cleared from the API
//! and the Flow keys page's forms (roles, CSRF, bad input, audit log), and
//! keyed jobs listed in the queue's `keyed` tab and API listing.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use jobqueue_core::{ClassLimits, KeyLimits, RateLimit};
use jobqueue_integration::dashboard::{As, Dashboard, audit_actions, operator_config};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::test_redis;
use serde_json::json;

fn class(class: &str, max_running: Option<u32>, rate: Option<(u32, u64)>) -> ClassLimits {
    ClassLimits {
        class: class.to_owned(),
        limits: KeyLimits {
            max_running,
            rate: rate.map(|(limit, ms)| RateLimit::bucket(limit, Duration::from_millis(ms))),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_class_limits_are_set_and_cleared_from_the_api_and_the_page() {
    let env = test_redis("dash-key-limits").await;
    env.client()
        .job(NoopJob { n: 1 })
        .flow_key("customer:7")
        .enqueue()
        .await
        .unwrap();
    let admin = env.client().admin();
    let dash = Dashboard::new(&env, operator_config());
    let list = "/api/v1/queues/default/key-limits";
    let customer = "/api/v1/queues/default/key-limits/customer";

    // Nothing configured: every class gets the default.
    assert_eq!(
        dash.get(list, As::Reader).await.json(),
        json!({ "default": { "max_running": 1, "rate": null }, "classes": [] })
    );
    assert_eq!(
        dash.get(customer, As::Reader).await.json(),
        json!({ "class": "customer", "configured": false, "max_running": 1, "rate": null })
    );

    // Set by the API; the keys view shows them applied to the class's keys.
    let set = dash
        .send(
            Method::PUT,
            customer,
            As::Operator,
            &[],
            r#"{"max_running": 2, "rate": {"limit": 10, "per_ms": 1000}}"#,
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let want = json!({
        "class": "customer",
        "configured": true,
        "max_running": 2,
        "rate": { "limit": 10, "per_ms": 1000, "mode": "bucket" },
    });
    assert_eq!(set.json(), want);
    assert_eq!(dash.get(customer, As::Reader).await.json(), want);
    assert_eq!(
        admin.key_limits("default").await.unwrap(),
        [class("customer", Some(2), Some((10, 1000)))]
    );
    let keys = dash
        .get("/api/v1/queues/default/keys", As::Reader)
        .await
        .json();
    assert_eq!(keys["keys"][0]["key"], "customer:7");
    assert_eq!(keys["keys"][0]["limits"]["max_running"], 2);
    assert_eq!(keys["keys"][0]["limits"]["rate_per_ms"], 1000);
    assert_eq!(keys["keys"][0]["limits"]["rate_mode"], "bucket");
    // `{}` sets no limit at all (unlike DELETE, which restores the default).
    let unlimited = dash
        .send(
            Method::PUT,
            "/api/v1/queues/default/key-limits/type",
            As::Operator,
            &[],
            "{}",
        )
        .await;
    assert_eq!(unlimited.status, StatusCode::OK, "{}", unlimited.body);
    assert_eq!(unlimited.json()["max_running"], serde_json::Value::Null);
    assert_eq!(
        dash.get(list, As::Reader).await.json()["classes"][1]["class"],
        "type"
    );

    // The page: operators get the form and a Clear button per class,
    // read-only users neither.
    let page = dash.get("/queues/default/keys", As::Browser).await.body;
    assert!(
        page.contains("id=\"key-limits-form\"")
            && page.contains("action=\"/queues/default/key-limits/clear\"")
            && page.contains("name=\"class\" value=\"customer\""),
        "{page}"
    );
    let read_only = dash.get("/queues/default/keys", As::Reader).await.body;
    assert!(
        !read_only.contains("key-limits-form") && !read_only.contains("key-limits/clear"),
        "{read_only}"
    );

    // Set by the form: an empty field is no limit of that kind.
    let form = dash
        .post_form(
            "/queues/default/key-limits",
            "class=account&max_running=3&rate=",
        )
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    let location = form.headers["location"].to_str().unwrap();
    assert_eq!(location, "/queues/default/keys?done=set_key_limits&n=0");
    assert!(
        dash.get(location, As::Browser)
            .await
            .body
            .contains("Key class limits set.")
    );
    let form = dash
        .post_form("/queues/default/key-limits", "class=pdf&rate=5%2F500ms")
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    let configured = [
        class("account", Some(3), None),
        class("customer", Some(2), Some((10, 1000))),
        class("pdf", None, Some((5, 500))),
        class("type", None, None),
    ];
    assert_eq!(admin.key_limits("default").await.unwrap(), configured);

    // Refused, changing nothing.
    for (method, path, who, body, want) in [
        (
            Method::PUT,
            customer,
            As::Reader,
            r#"{"max_running": 1}"#,
            403,
        ),
        // Basic auth (a browser) without the CSRF header.
        (
            Method::PUT,
            customer,
            As::Browser,
            r#"{"max_running": 1}"#,
            403,
        ),
        (Method::DELETE, customer, As::Reader, "", 403),
        (Method::DELETE, customer, As::Browser, "", 403),
        (
            Method::PUT,
            customer,
            As::Operator,
            r#"{"max_running": 0}"#,
            400,
        ),
        (
            Method::PUT,
            customer,
            As::Operator,
            r#"{"max_running": -1}"#,
            400,
        ),
        (
            Method::PUT,
            customer,
            As::Operator,
            r#"{"rate": {"limit": 0, "per_ms": 1000}}"#,
            400,
        ),
        (
            Method::PUT,
            customer,
            As::Operator,
            r#"{"rate": {"limit": 5, "per_ms": 0}}"#,
            400,
        ),
        (
            Method::PUT,
            customer,
            As::Operator,
            r#"{"rate": {"limit": 5}}"#,
            400,
        ),
        (
            Method::PUT,
            customer,
            As::Operator,
            r#"{"concurrency": 5}"#,
            400,
        ),
        (Method::PUT, customer, As::Operator, "not json", 400),
        (
            Method::PUT,
            "/api/v1/queues/default/key-limits/a%3Ab",
            As::Operator,
            "{}",
            400,
        ),
        (
            Method::PUT,
            "/api/v1/queues/default/key-limits/a%22b",
            As::Operator,
            "{}",
            400,
        ),
        (
            Method::GET,
            "/api/v1/queues/default/key-limits/a%3Ab",
            As::Reader,
            "",
            400,
        ),
        (
            Method::DELETE,
            "/api/v1/queues/default/key-limits/a%3Ab",
            As::Operator,
            "",
            400,
        ),
        (
            Method::PUT,
            "/api/v1/queues/nope/key-limits/customer",
            As::Operator,
            "{}",
            404,
        ),
        (
            Method::GET,
            "/api/v1/queues/nope/key-limits",
            As::Reader,
            "",
            404,
        ),
        (
            Method::DELETE,
            "/api/v1/queues/default/key-limits/never-set",
            As::Operator,
            "",
            404,
        ),
    ] {
        let reply = dash.send(method.clone(), path, who, &[], body).await;
        assert_eq!(
            reply.status.as_u16(),
            want,
            "{method} {path} {body}: {}",
            reply.body
        );
        assert!(reply.json()["error"].is_string(), "{}", reply.body);
    }
    for (path, fields, want) in [
        ("/queues/default/key-limits", "class=&max_running=1", 400),
        ("/queues/default/key-limits", "max_running=1", 400),
        ("/queues/default/key-limits", "class=x&max_running=abc", 400),
        ("/queues/default/key-limits", "class=x&max_running=0", 400),
        ("/queues/default/key-limits", "class=x&rate=fast", 400),
        ("/queues/default/key-limits", "class=x&rate=5%2F0s", 400),
        (
            "/queues/default/key-limits",
            "class=a%3Ab&max_running=1",
            400,
        ),
        ("/queues/nope/key-limits", "class=x&max_running=1", 404),
        ("/queues/default/key-limits/clear", "class=never-set", 404),
        ("/queues/default/key-limits/clear", "", 400),
    ] {
        let reply = dash.post_form(path, fields).await;
        assert_eq!(
            reply.status.as_u16(),
            want,
            "{path} {fields}: {}",
            reply.body
        );
    }
    let no_csrf = dash
        .send(
            Method::POST,
            "/queues/default/key-limits",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            "class=x&max_running=1",
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.key_limits("default").await.unwrap(), configured);

    // Cleared by the API (the default again), then by the form.
    let cleared = dash
        .send(Method::DELETE, customer, As::Operator, &[], "")
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(
        cleared.json(),
        json!({ "class": "customer", "configured": false, "max_running": 1, "rate": null })
    );
    assert_eq!(
        dash.send(Method::DELETE, customer, As::Operator, &[], "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let cleared = dash
        .post_form("/queues/default/key-limits/clear", "class=account")
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    assert_eq!(
        admin.key_limits("default").await.unwrap(),
        [
            class("pdf", None, Some((5, 500))),
            class("type", None, None)
        ]
    );
    assert_eq!(
        dash.get("/api/v1/queues/default/keys", As::Reader)
            .await
            .json()["keys"][0]["limits"]["max_running"],
        1
    );

    assert_eq!(
        audit_actions(&env, 6).await,
        [
            "clear_key_limits default account",
            "clear_key_limits default customer",
            "set_key_limits default pdf 5 per 500ms",
            "set_key_limits default account at most 3 running",
            "set_key_limits default type no limits",
            "set_key_limits default customer at most 2 running · 10 per 1s",
        ]
    );

    // The OpenAPI document describes the routes.
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    for path in [
        "/api/v1/queues/{queue}/key-limits",
        "/api/v1/queues/{queue}/key-limits/{class}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
}

/// The ids of a JSON job page.
fn page_ids(page: &serde_json::Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {page}"))
        .iter()
        .map(|job| job["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_jobs_are_listed_in_the_queues_keyed_tab() {
    let env = test_redis("dash-keyed-tab").await;
    let client = &env.client();
    let keyed = |n: u64, key: &'static str| client.job(NoopJob { n }).flow_key(key).enqueue();
    let mut customer = Vec::new();
    for n in 0..3 {
        customer.push(keyed(n, "customer:7").await.unwrap());
    }
    // Keys are served in the order they became ready (Redis clock, ms).
    tokio::time::sleep(Duration::from_millis(20)).await;
    let account = [
        keyed(10, "account:1").await.unwrap(),
        keyed(11, "account:1").await.unwrap(),
    ];
    let plain = client.enqueue(NoopJob { n: 20 }).await.unwrap();
    let later = client
        .job(NoopJob { n: 30 })
        .flow_key("customer:7")
        .delay(Duration::from_secs(600))
        .enqueue()
        .await
        .unwrap();
    let dash = Dashboard::new(&env, operator_config());
    let listing = "/api/v1/queues/default/jobs/keyed";

    // Key by key in serving order, FIFO within a key, each job with its
    // flow key; neither the plain nor the scheduled keyed job is there.
    let want: Vec<String> = customer
        .iter()
        .chain(&account)
        .map(ToString::to_string)
        .collect();
    let page = dash.get(listing, As::Reader).await.json();
    assert_eq!(page_ids(&page), want);
    assert_eq!(page["total"], 5);
    assert!(page["next_cursor"].is_null(), "{page}");
    assert_eq!(page["jobs"][0]["flow_key"], "customer:7");
    assert_eq!(page["jobs"][0]["state"], "ready");
    assert_eq!(page["jobs"][3]["flow_key"], "account:1");

    // Pages of two run across the keys' lists and meet every job once.
    let mut seen = Vec::new();
    let mut cursor = 0;
    for _ in 0..5 {
        let page = dash
            .get(&format!("{listing}?limit=2&cursor={cursor}"), As::Reader)
            .await
            .json();
        assert!(page["jobs"].as_array().unwrap().len() <= 2, "{page}");
        seen.extend(page_ids(&page));
        match page["next_cursor"].as_u64() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(seen, want);
    let middle = dash
        .get(&format!("{listing}?limit=2&cursor=2"), As::Reader)
        .await
        .json();
    assert_eq!(
        page_ids(&middle),
        [customer[2].to_string(), account[0].to_string()]
    );
    let none = dash
        .get(&format!("{listing}?type=other"), As::Reader)
        .await
        .json();
    assert_eq!(
        (page_ids(&none).len(), none["scanned"].as_u64()),
        (0, Some(5))
    );
    let typed = dash
        .get(&format!("{listing}?type=noop&limit=1&cursor=4"), As::Reader)
        .await
        .json();
    assert_eq!(page_ids(&typed), [account[1].to_string()]);
    // The ready tab keeps the plain job only.
    let ready = dash
        .get("/api/v1/queues/default/jobs/ready", As::Reader)
        .await
        .json();
    assert_eq!(page_ids(&ready), [plain.to_string()]);
    // Keyed jobs are not retried (they are ready already); a bad state is 400.
    let bulk = dash
        .send(
            Method::POST,
            &format!("{listing}/retry"),
            As::Operator,
            &[],
            &format!(r#"{{"ids": ["{}"]}}"#, customer[0]),
        )
        .await;
    assert_eq!(bulk.status, StatusCode::CONFLICT, "{}", bulk.body);
    assert_eq!(
        dash.get("/api/v1/queues/default/jobs/keyd", As::Reader)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // The page: a keyed tab with its count; rows show the key and link
    // to the job's page.
    let tab = dash.get("/queues/default/jobs/keyed", As::Reader).await;
    assert_eq!(tab.status, StatusCode::OK, "{}", tab.body);
    for expected in [
        "keyed <span class=\"count\">5</span>".to_owned(),
        "<code class=\"flow-key\">customer:7</code>".to_owned(),
        "<code class=\"flow-key\">account:1</code>".to_owned(),
        format!("href=\"/queues/default/job/{}\"", customer[0]),
        format!("href=\"/queues/default/job/{}\"", account[1]),
        "id=\"keyed-note\"".to_owned(),
    ] {
        assert!(
            tab.body.contains(&expected),
            "{expected} not in {}",
            tab.body
        );
    }
    assert!(!tab.body.contains(&plain.to_string()));
    let scheduled = dash
        .get("/queues/default/jobs/scheduled", As::Reader)
        .await
        .body;
    assert!(
        scheduled.contains(&later.to_string())
            && scheduled.contains("<code class=\"flow-key\">customer:7</code>"),
        "{scheduled}"
    );
    let ready_page = dash
        .get("/queues/default/jobs/ready", As::Reader)
        .await
        .body;
    assert!(!ready_page.contains("flow-key"), "{ready_page}");

    // A keyed job's page: its key, the way back to the keyed tab, and
    // Cancel for operators, which takes it out of the listing.
    let job_page = dash
        .get(&format!("/queues/default/job/{}", account[1]), As::Browser)
        .await;
    assert_eq!(job_page.status, StatusCode::OK, "{}", job_page.body);
    for expected in [
        "id=\"job-flow-key\">account:1</code>",
        "Back to keyed jobs",
        "cancel-job",
    ] {
        assert!(
            job_page.body.contains(expected),
            "{expected} not in {}",
            job_page.body
        );
    }
    let cancelled = dash
        .post_form(&format!("/queues/default/job/{}/cancel", account[1]), "")
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.body
    );
    let page = dash.get(listing, As::Reader).await.json();
    assert_eq!(page_ids(&page), want[..4]);
    assert_eq!(page["total"], 4);

    // Operators delete keyed jobs: one from its page, the rest in bulk.
    let job_page = dash
        .get(&format!("/queues/default/job/{}", customer[0]), As::Browser)
        .await;
    assert!(job_page.body.contains("delete-job"), "{}", job_page.body);
    let deleted = dash
        .post_form(&format!("/queues/default/job/{}/delete", customer[0]), "")
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    let page = dash.get(listing, As::Reader).await.json();
    assert_eq!(page_ids(&page), want[1..4]);
    let bulk = dash
        .send(
            Method::POST,
            &format!("{listing}/delete"),
            As::Operator,
            &[],
            r#"{"all_matching": true}"#,
        )
        .await;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.body);
    assert_eq!(bulk.json()["count"], 3, "{}", bulk.body);
    assert_eq!(dash.get(listing, As::Reader).await.json()["total"], 0);
    // The plain job and the scheduled keyed job are untouched.
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!((info.ready, info.scheduled, info.keyed), (1, 1, 0));
}
