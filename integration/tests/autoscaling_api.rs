//! The autoscaling signal as the dashboard serves it: `/api/v1/scaling`
//! and `/metrics` for the read-only role, bad input, the queues page,
//! `jobqueue serve --scaling`; and the KEDA ScaledObject and HPA examples
//! of docs/deployment.md checked against a live answer.

use std::time::Duration;

use axum::http::StatusCode;
use jobqueue_core::admin::scaling::ScalingConfig;
use jobqueue_integration::dashboard::{As, Dashboard, operator_config, serve_config};
use jobqueue_integration::jobs::MailJob;
use jobqueue_integration::test_redis;
use jobqueue_testing::TestRedis;

/// The targets of the API test and of the JSON example in
/// docs/deployment.md.
const API_TARGETS: &str =
    "* lead_time=60 latency_target=10 concurrency=2 default_throughput=0.1; mail max=7";

/// 3 ready `mail` jobs, 2 due in 10 s (within the lead time), 1 due in an
/// hour (outside it).
async fn api_fixture(env: &TestRedis) {
    let client = env.client();
    client
        .enqueue_bulk((0..3).map(|n| MailJob { n }))
        .await
        .unwrap();
    for n in 3..5 {
        client
            .enqueue_in(Duration::from_secs(10), MailJob { n })
            .await
            .unwrap();
    }
    client
        .enqueue_in(Duration::from_secs(3600), MailJob { n: 5 })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_api_metrics_and_queues_page_for_the_read_only_role() {
    let env = test_redis("autoscaling-api").await;
    api_fixture(&env).await;
    let config = operator_config().scaling(ScalingConfig::parse(API_TARGETS).unwrap());
    let dash = Dashboard::new(&env, config);

    let all = dash.get("/api/v1/scaling", As::Reader).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    println!("GET /api/v1/scaling → {}", all.body);
    let mail = &all.json()["queues"]["mail"];
    // pending 3 + 2 = 5; 5 / (0.1 jobs/slot-s × 10 s) = 5 slots; 2 per worker.
    assert_eq!(mail["pending"], 5);
    assert_eq!(mail["inputs"]["ready"], 3);
    assert_eq!(mail["inputs"]["scheduled_due"], 2);
    assert_eq!(mail["desired_slots"], 5.0);
    assert_eq!(mail["desired_workers"], 3);
    assert_eq!(mail["measured"], false);
    assert_eq!(mail["targets"]["max_workers"], 7);
    assert_eq!(mail["targets"]["lead_time"], 60.0);

    let one = dash.get("/api/v1/scaling?queue=mail", As::Reader).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["desired_workers"], 3);
    assert_eq!(one.json()["queue"], "mail");
    for (path, want) in [
        ("/api/v1/scaling?queue=nope", StatusCode::NOT_FOUND),
        ("/api/v1/scaling?queue=%3Cb%3E", StatusCode::BAD_REQUEST),
        ("/api/v1/scaling?limit=3", StatusCode::BAD_REQUEST),
    ] {
        let reply = dash.get(path, As::Reader).await;
        assert_eq!(reply.status, want, "{path}: {}", reply.body);
        assert!(
            !reply.json()["error"].as_str().unwrap().is_empty(),
            "{path}"
        );
    }
    assert_eq!(
        dash.get("/api/v1/scaling", As::Nobody).await.status,
        StatusCode::UNAUTHORIZED
    );

    let metrics = dash.get("/metrics", As::Reader).await.body;
    for line in [
        "# TYPE jobqueue_desired_workers gauge",
        "jobqueue_desired_workers{queue=\"mail\"} 3",
        "jobqueue_scaling_pending_jobs{queue=\"mail\"} 5",
        "jobqueue_scaling_jobs_per_slot_second{queue=\"mail\"} 0.1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }

    let page = dash.get("/queues", As::Reader).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"scaling-table\""));
    assert!(
        page.body.contains("data-f=\"desired_workers\">3<"),
        "{}",
        page.body
    );

    // The OpenAPI document describes the endpoint.
    let openapi = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    assert!(openapi["paths"]["/api/v1/scaling"]["get"].is_object());
    env.cleanup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_the_scaling_targets_from_its_flag_or_variable() {
    let env = test_redis("autoscaling-serve").await;
    api_fixture(&env).await;
    let config = serve_config(&[
        "--scaling",
        "* default_throughput=0.1 concurrency=2; mail max=2",
    ]);
    let dash = Dashboard::new(&env, config);
    let reply = dash
        .send(
            axum::http::Method::GET,
            "/api/v1/scaling?queue=mail",
            As::Nobody,
            &[("host", "localhost")],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mail = reply.json();
    // 5 pending at 0.1 jobs/slot-s within 30 s: 1.67 slots, 1 worker; max 2.
    assert_eq!(mail["targets"]["max_workers"], 2);
    assert_eq!(mail["desired_workers"], 1);
    env.cleanup().await.unwrap();
}

/// The fenced ```yaml blocks of docs/deployment.md.
fn deployment_yaml_blocks() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/deployment.md"
    ))
    .unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// A tiny YAML check: no tabs, indentation in steps of two, every line a
/// `key: value`, `key:`, a `- ` list item or `---`. Returns the values of
/// `key` anywhere in the block (quotes removed).
fn yaml_values(block: &str, key: &str) -> Vec<String> {
    let mut values = Vec::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        assert!(!line.contains('\t'), "tab in {line:?}");
        let indent = line.len() - line.trim_start().len();
        assert_eq!(indent % 2, 0, "odd indentation: {line:?}");
        let item = line.trim_start().trim_start_matches("- ");
        if item == "---" || item.starts_with('#') {
            continue;
        }
        let (k, v) = item
            .split_once(':')
            .unwrap_or_else(|| panic!("not key: value: {line:?}"));
        if k == key {
            values.push(v.trim().trim_matches('"').to_owned());
        }
    }
    values
}

/// Resolves a GJSON path of plain dot-separated names, as KEDA's
/// `valueLocation` does for these.
fn at_path<'a>(json: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    path.split('.').fold(json, |value, name| &value[name])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_keda_and_hpa_examples_read_a_live_dashboard() {
    let blocks = deployment_yaml_blocks();
    let keda = blocks
        .iter()
        .find(|b| b.contains("kind: ScaledObject"))
        .expect("a ScaledObject in docs/deployment.md");
    let hpa = blocks
        .iter()
        .find(|b| b.contains("kind: HorizontalPodAutoscaler"))
        .expect("an HPA in docs/deployment.md");
    assert_eq!(
        yaml_values(keda, "apiVersion"),
        ["keda.sh/v1alpha1", "keda.sh/v1alpha1"]
    );
    assert_eq!(yaml_values(keda, "type"), ["metrics-api"]);
    assert_eq!(yaml_values(keda, "metricType"), ["AverageValue"]);
    assert_eq!(yaml_values(keda, "minReplicaCount"), ["0"]);
    assert_eq!(yaml_values(keda, "targetValue"), ["1"]);
    assert_eq!(yaml_values(keda, "authMode"), ["bearer"]);
    assert_eq!(yaml_values(keda, "parameter"), ["token"]);
    let url = &yaml_values(keda, "url")[0];
    let path = url
        .find("/api/")
        .map(|at| &url[at..])
        .expect("a dashboard URL");
    assert_eq!(path, "/api/v1/scaling");
    let location = &yaml_values(keda, "valueLocation")[0];

    let env = test_redis("autoscaling-docs").await;
    api_fixture(&env).await;
    let config = operator_config().scaling(ScalingConfig::parse(API_TARGETS).unwrap());
    let dash = Dashboard::new(&env, config);
    let live = dash.get(path, As::Reader).await;
    assert_eq!(live.status, StatusCode::OK);
    let value = at_path(&live.json(), location).clone();
    assert_eq!(value, serde_json::json!(3), "{location} in {}", live.body);

    assert_eq!(
        yaml_values(hpa, "apiVersion"),
        ["autoscaling/v2", "apps/v1"]
    );
    assert_eq!(yaml_values(hpa, "type"), ["External", "AverageValue"]);
    let metric = &yaml_values(hpa, "name")[2];
    let queue = &yaml_values(hpa, "queue")[0];
    let metrics = dash.get("/metrics", As::Reader).await.body;
    let series = format!("{metric}{{queue=\"{queue}\"}} 3");
    assert!(
        metrics.lines().any(|l| l == series),
        "{series} not in /metrics"
    );
    env.cleanup().await.unwrap();
}
