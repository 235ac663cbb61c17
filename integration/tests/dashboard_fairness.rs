//! Weighted fairness between flow keys in the dashboard and the JSON API,
//! against real Redis: weights of key classes and flow keys shown, set and
//! cleared from the API and the Flow keys page's forms (roles, CSRF, bad
//! input, audit log, hostile key names escaped), and the per-key waits of
//! keyed jobs a worker ran, in the API, on the page and in `/metrics`
//! (at most the busiest 10 keys plus "other" as label values).

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use jobqueue_core::admin::FlowWeight;
use jobqueue_integration::dashboard::{As, Dashboard, audit_actions, operator_config};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::eventually;
use serde_json::json;

/// A flow key with markup in it (valid: printable ASCII without `"`/`\`).
const HOSTILE: &str = "t:<script>x";
/// [`HOSTILE`] percent-encoded as a path segment.
const HOSTILE_SEGMENT: &str = "t%3A%3Cscript%3Ex";
/// [`HOSTILE`] as the pages show it, escaped.
const HOSTILE_ESCAPED: &str = "t:&lt;script&gt;x";

fn weight(name: &str, weight: u32) -> FlowWeight {
    FlowWeight {
        name: name.to_owned(),
        weight,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_are_set_listed_and_cleared_from_the_api_and_the_page() {
    let env = test_redis("dash-weights").await;
    let client = env.client();
    for key in ["gold:1", HOSTILE, "waits"] {
        client
            .job(NoopJob { n: 1 })
            .flow_key(key)
            .enqueue()
            .await
            .unwrap();
    }
    let admin = client.admin();
    let dash = Dashboard::new(&env, operator_config());
    let list = "/api/v1/queues/default/weights";
    let gold = "/api/v1/queues/default/weights/gold";
    let hostile = format!("/api/v1/queues/default/weights/{HOSTILE_SEGMENT}");

    // Nothing set: every key weighs 1.
    assert_eq!(
        dash.get(list, As::Reader).await.json(),
        json!({ "default": 1, "max": 1000, "weights": [] })
    );
    assert_eq!(
        dash.get(gold, As::Reader).await.json(),
        json!({ "name": "gold", "configured": false, "weight": 1 })
    );
    // A flow key named like the waits route still lists its jobs.
    let waits_key = dash
        .get("/api/v1/queues/default/keys/waits/jobs", As::Reader)
        .await;
    assert_eq!(waits_key.status, StatusCode::OK, "{}", waits_key.body);
    assert_eq!(waits_key.json().as_array().map(Vec::len), Some(1));

    // Set by the API: a class and a (hostile) flow key.
    let set = dash
        .send(Method::PUT, gold, As::Operator, &[], r#"{"weight": 3}"#)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        set.json(),
        json!({ "name": "gold", "configured": true, "weight": 3 })
    );
    let set = dash
        .send(Method::PUT, &hostile, As::Operator, &[], r#"{"weight": 2}"#)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.json()["name"], HOSTILE);
    assert_eq!(
        dash.get(list, As::Reader).await.json()["weights"],
        json!([
            { "name": "gold", "configured": true, "weight": 3 },
            { "name": HOSTILE, "configured": true, "weight": 2 },
        ])
    );
    // A key without a weight of its own gets its class's.
    assert_eq!(
        dash.get("/api/v1/queues/default/weights/gold%3A1", As::Reader)
            .await
            .json(),
        json!({ "name": "gold:1", "configured": false, "weight": 3 })
    );
    let keys = dash
        .get("/api/v1/queues/default/keys", As::Reader)
        .await
        .json();
    let weight_of = |key: &str| {
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["key"] == key)
            .map(|k| k["weight"].clone())
    };
    assert_eq!(
        (weight_of("gold:1"), weight_of(HOSTILE), weight_of("waits")),
        (Some(json!(3)), Some(json!(2)), Some(json!(1))),
        "{keys}"
    );

    // Set by the form.
    let form = dash
        .post_form("/queues/default/weights", "name=silver&weight=5")
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    let location = form.headers["location"].to_str().unwrap();
    assert_eq!(location, "/queues/default/keys?done=set_flow_weight&n=0");
    assert!(
        dash.get(location, As::Browser)
            .await
            .body
            .contains("Flow weight set.")
    );
    let configured = [weight("gold", 3), weight("silver", 5), weight(HOSTILE, 2)];
    assert_eq!(admin.flow_weights("default").await.unwrap(), configured);

    // The page: the weight of each key, the weights set with Clear beside
    // each and the form (operators), the hostile name escaped.
    let page = dash.get("/queues/default/keys", As::Browser).await.body;
    for expected in [
        "id=\"flow-weights\"",
        "id=\"weight-form\"",
        "action=\"/queues/default/weights/clear\"",
        "name=\"name\" value=\"silver\"",
        HOSTILE_ESCAPED,
        "<th>rate</th><th class=\"num\">weight</th>",
    ] {
        assert!(page.contains(expected), "{expected} not in {page}");
    }
    assert!(!page.contains(HOSTILE), "unescaped {HOSTILE} in {page}");
    let read_only = dash.get("/queues/default/keys", As::Reader).await.body;
    assert!(
        read_only.contains("id=\"flow-weights\"")
            && !read_only.contains("weight-form")
            && !read_only.contains("weights/clear"),
        "{read_only}"
    );

    // Refused, changing nothing.
    let long_name = format!("/api/v1/queues/default/weights/{}", "k".repeat(201));
    for (method, path, who, body, want) in [
        (Method::PUT, gold, As::Reader, r#"{"weight": 1}"#, 403),
        // Basic auth (a browser) without the CSRF header.
        (Method::PUT, gold, As::Browser, r#"{"weight": 1}"#, 403),
        (Method::DELETE, gold, As::Reader, "", 403),
        (Method::DELETE, gold, As::Browser, "", 403),
        (Method::PUT, gold, As::Operator, r#"{"weight": 0}"#, 400),
        (Method::PUT, gold, As::Operator, r#"{"weight": 1001}"#, 400),
        (Method::PUT, gold, As::Operator, r#"{"weight": -1}"#, 400),
        (
            Method::PUT,
            gold,
            As::Operator,
            r#"{"weight": 4294967296}"#,
            400,
        ),
        (Method::PUT, gold, As::Operator, r#"{"weight": "3"}"#, 400),
        (
            Method::PUT,
            gold,
            As::Operator,
            r#"{"weight": 3, "x": 1}"#,
            400,
        ),
        (Method::PUT, gold, As::Operator, "{}", 400),
        (Method::PUT, gold, As::Operator, "not json", 400),
        (
            Method::PUT,
            "/api/v1/queues/default/weights/a%22b",
            As::Operator,
            r#"{"weight": 2}"#,
            400,
        ),
        (
            Method::PUT,
            &long_name,
            As::Operator,
            r#"{"weight": 2}"#,
            400,
        ),
        (
            Method::GET,
            "/api/v1/queues/default/weights/a%5Cb",
            As::Reader,
            "",
            400,
        ),
        (
            Method::DELETE,
            "/api/v1/queues/default/weights/a%22b",
            As::Operator,
            "",
            400,
        ),
        (
            Method::PUT,
            "/api/v1/queues/nope/weights/gold",
            As::Operator,
            r#"{"weight": 2}"#,
            404,
        ),
        (
            Method::GET,
            "/api/v1/queues/nope/weights",
            As::Reader,
            "",
            404,
        ),
        (
            Method::GET,
            "/api/v1/queues/nope/keys/waits",
            As::Reader,
            "",
            404,
        ),
        (
            Method::DELETE,
            "/api/v1/queues/default/weights/never-set",
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
        ("/queues/default/weights", "name=&weight=1", 400),
        ("/queues/default/weights", "weight=1", 400),
        ("/queues/default/weights", "name=x", 400),
        ("/queues/default/weights", "name=x&weight=", 400),
        ("/queues/default/weights", "name=x&weight=abc", 400),
        ("/queues/default/weights", "name=x&weight=0", 400),
        ("/queues/default/weights", "name=x&weight=1001", 400),
        ("/queues/default/weights", "name=a%22b&weight=1", 400),
        ("/queues/nope/weights", "name=x&weight=1", 404),
        ("/queues/default/weights/clear", "name=never-set", 404),
        ("/queues/default/weights/clear", "", 400),
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
            "/queues/default/weights",
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            "name=x&weight=1",
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.flow_weights("default").await.unwrap(), configured);

    // Cleared by the API (404 the second time), then by the form.
    let cleared = dash.send(Method::DELETE, gold, As::Operator, &[], "").await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(
        cleared.json(),
        json!({ "name": "gold", "configured": false, "weight": 1 })
    );
    assert_eq!(
        dash.send(Method::DELETE, gold, As::Operator, &[], "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let form = dash
        .post_form("/queues/default/weights/clear", "name=silver")
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.body);
    assert_eq!(
        form.headers["location"].to_str().unwrap(),
        "/queues/default/keys?done=clear_flow_weight&n=0"
    );
    assert_eq!(
        admin.flow_weights("default").await.unwrap(),
        [weight(HOSTILE, 2)]
    );

    assert_eq!(
        audit_actions(&env, 5).await,
        [
            "clear_flow_weight default silver".to_owned(),
            "clear_flow_weight default gold".to_owned(),
            "set_flow_weight default silver weight 5".to_owned(),
            format!("set_flow_weight default {HOSTILE} weight 2"),
            "set_flow_weight default gold weight 3".to_owned(),
        ]
    );
    // The audit log page shows the hostile target escaped.
    let audit_page = dash.get("/audit", As::Browser).await.body;
    assert!(
        audit_page.contains(HOSTILE_ESCAPED) && !audit_page.contains(HOSTILE),
        "{audit_page}"
    );

    // The OpenAPI document describes the routes.
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    for path in [
        "/api/v1/queues/{queue}/weights",
        "/api/v1/queues/{queue}/weights/{name}",
        "/api/v1/queues/{queue}/keys/waits",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
}

/// The `key` label values of the `jobqueue_flow_key_wait_seconds` lines of
/// queue `default` in a `/metrics` text, and how many lines there are.
fn wait_labels(metrics: &str) -> (BTreeSet<String>, usize) {
    let lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("jobqueue_flow_key_wait_seconds{queue=\"default\","))
        .collect();
    let keys = lines
        .iter()
        .filter_map(|l| l.split("key=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    (keys, lines.len())
}

/// 20 keys of 1-20 jobs each plus a hostile key with 25, run by a worker:
/// the waits API names the busiest 10 and sums up the rest as "other", the
/// page shows them (escaped), and `/metrics` has p50 and p99 of those 10
/// plus "other" — 11 key label values, not 21 — and the sample count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_waits_show_in_the_api_the_page_and_metrics() {
    let env = test_redis("dash-waits").await;
    let client = env.client();
    let dash = Dashboard::new(&env, operator_config());
    let mut total = 0u64;
    for i in 0..20u64 {
        let key = format!("t:k{i:02}");
        for n in 0..=i {
            client
                .job(NoopJob { n })
                .flow_key(&key)
                .enqueue()
                .await
                .unwrap();
            total += 1;
        }
    }
    for n in 0..25 {
        client
            .job(NoopJob { n })
            .flow_key(HOSTILE)
            .enqueue()
            .await
            .unwrap();
        total += 1;
    }
    let waits_path = "/api/v1/queues/default/keys/waits";

    // Nothing started yet: no samples, and no wait series in /metrics.
    assert_eq!(
        dash.get(waits_path, As::Reader).await.json(),
        json!({ "samples": 0, "keys": [], "other": null })
    );
    let page = dash.get("/queues/default/keys", As::Reader).await.body;
    assert!(page.contains("id=\"no-waits\""), "{page}");
    let metrics = dash.get("/metrics", As::Reader).await.body;
    assert!(
        metrics.contains("# TYPE jobqueue_flow_key_wait_seconds gauge"),
        "{metrics}"
    );
    assert_eq!(wait_labels(&metrics).1, 0, "{metrics}");
    assert!(
        !metrics.contains("jobqueue_flow_key_wait_samples{"),
        "{metrics}"
    );

    let worker = test_worker(&env).concurrency(8).start().await.unwrap();
    let admin = client.admin();
    assert!(
        eventually(Duration::from_secs(30), || async {
            admin
                .flow_key_waits("default", 10)
                .await
                .is_ok_and(|w| w.samples == total)
        })
        .await,
        "every keyed job started"
    );
    worker.shutdown().await;

    // The API: the 10 busiest keys (the hostile one first), the rest as
    // "other"; the reader may read it.
    let waits = dash.get(waits_path, As::Reader).await;
    assert_eq!(waits.status, StatusCode::OK, "{}", waits.body);
    let waits = waits.json();
    assert_eq!(waits["samples"], total, "{waits}");
    let keys = waits["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 10, "{waits}");
    assert_eq!(keys[0]["key"], HOSTILE, "{waits}");
    assert_eq!(keys[0]["starts"], 25, "{waits}");
    assert_eq!(keys[1]["key"], "t:k19", "{waits}");
    let named: u64 = keys.iter().map(|k| k["starts"].as_u64().unwrap()).sum();
    assert_eq!(waits["other"]["key"], "other", "{waits}");
    assert_eq!(waits["other"]["starts"], total - named, "{waits}");
    for key in keys.iter().chain([&waits["other"]]) {
        let (p50, p99, max) = (&key["p50_ms"], &key["p99_ms"], &key["max_ms"]);
        assert!(
            p50.as_u64() <= p99.as_u64() && p99.as_u64() <= max.as_u64(),
            "{key}"
        );
    }

    // The page: the waits table with the escaped hostile key and the
    // "other" row.
    let page = dash.get("/queues/default/keys", As::Reader).await.body;
    for expected in [
        "id=\"key-waits\"".to_owned(),
        format!("over the latest {total} starts"),
        format!("<code>{HOSTILE_ESCAPED}</code>"),
        "<tr class=\"muted\"><td>other keys</td>".to_owned(),
        "<tr><td><code>t:k19</code></td><td class=\"num\">20</td>".to_owned(),
    ] {
        assert!(page.contains(&expected), "{expected} not in {page}");
    }
    assert!(!page.contains(HOSTILE), "unescaped {HOSTILE} in {page}");

    // /metrics, once its cache (1 s) has expired: p50 and p99 of the 10
    // busiest keys and "other", and the sample count.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let metrics = dash.get("/metrics", As::Reader).await.body;
        if wait_labels(&metrics).1 > 0 || std::time::Instant::now() > deadline {
            break metrics;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (labels, lines) = wait_labels(&metrics);
    assert_eq!(labels.len(), 11, "{labels:?}");
    assert_eq!(lines, 22, "{metrics}");
    assert!(
        labels.contains("other") && labels.contains(HOSTILE) && !labels.contains("t:k00"),
        "{labels:?}"
    );
    let p99 = format!(
        "jobqueue_flow_key_wait_seconds{{queue=\"default\",key=\"{HOSTILE}\",quantile=\"0.99\"}} "
    );
    assert!(metrics.contains(&p99), "{p99} not in {metrics}");
    assert!(
        metrics.contains(&format!(
            "jobqueue_flow_key_wait_samples{{queue=\"default\"}} {total}\n"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE jobqueue_flow_key_wait_samples gauge"),
        "{metrics}"
    );
}
