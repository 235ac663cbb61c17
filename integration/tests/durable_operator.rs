//! The operator's view of durable jobs: the job page and the API show a
//! parked job's steps and the signal it waits for (escaped), and the
//! signal route wakes it (operators only, audited; bad input is a 4xx).

use std::time::Duration;

use axum::http::{Method, StatusCode};
use jobqueue_integration::dashboard::{As, Dashboard, audit_actions, operator_config};
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::traces::trace_counts;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_job_is_shown_and_woken_from_the_api() {
    let env = test_redis("durable-dash").await;
    let dash = Dashboard::new(&env, operator_config());
    let worker = test_worker(&env).start().await.unwrap();
    let mut job = DurableJob::new(env.url(), &format!("{}:trace", env.prefix()), 2);
    let signal = "ok<b>go</b>";
    job.signal = Some(signal.into());
    job.signal_timeout_ms = 60_000;
    let id = env.client().enqueue(job).await.unwrap();
    let api_path = format!("/api/v1/queues/default/job/{id}");
    assert!(
        eventually(Duration::from_secs(10), || async {
            let reply = dash.get(&api_path, As::Reader).await;
            reply.status == StatusCode::OK
                && reply.json()["durable"]["signals"][0]["state"] == "waiting"
        })
        .await,
        "the job parked"
    );
    let detail = dash.get(&api_path, As::Reader).await.json();
    let durable = &detail["durable"];
    assert_eq!(detail["state"], "retry", "{detail}");
    assert_eq!(durable["steps"].as_array().unwrap().len(), 2, "{durable}");
    assert_eq!(durable["steps"][0]["name"], "s1");
    assert_eq!(durable["steps"][0]["output"], 10);
    assert_eq!(durable["steps"][0]["output_bytes"], 2);
    assert_eq!(durable["signals"][0]["name"], signal);

    assert!(
        eventually(Duration::from_secs(5), || async {
            dash.get("/metrics", As::Reader)
                .await
                .body
                .contains("jobqueue_jobs_waiting_for_signal{queue=\"default\"} 1")
        })
        .await,
        "/metrics counts the parked job"
    );
    let page = dash
        .get(&format!("/queues/default/job/{id}"), As::Reader)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"job-waiting-signal\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("ok&lt;b&gt;go&lt;/b&gt;"), "escaped");
    assert!(!page.body.contains("<b>go</b>"), "never raw");
    assert!(page.body.contains("id=\"step-output-1\""));

    let signal_path = format!("/api/v1/queues/default/job/{id}/signal/ok%3Cb%3Ego%3C%2Fb%3E");
    for (path, who, body, want) in [
        (signal_path.as_str(), As::Reader, "1", StatusCode::FORBIDDEN),
        (
            signal_path.as_str(),
            As::Operator,
            "{not json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/queues/default/job/nope/signal/x",
            As::Operator,
            "1",
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("/api/v1/queues/nope/job/{id}/signal/x"),
            As::Operator,
            "1",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let reply = dash.send(Method::POST, path, who, &[], body).await;
        assert_eq!(reply.status, want, "{path}: {}", reply.body);
    }
    let sent = dash
        .send(
            Method::POST,
            &signal_path,
            As::Operator,
            &[],
            r#"{"by":"ops"}"#,
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.json()["status"], "woken");
    let done_key = format!("{}:trace:done", env.prefix());
    assert!(
        eventually(Duration::from_secs(10), || async {
            trace_counts(env.url(), &done_key).await.len() == 1
        })
        .await,
        "the woken job finished"
    );
    assert!(
        audit_actions(&env, 5)
            .await
            .iter()
            .any(|a| a.starts_with("signal "))
    );
    worker.shutdown().await;
}

/// Steps stored within one millisecond are listed in the order they were
/// stored: the operator's view keeps the memo's microseconds. (A job's
/// quick steps used to come back in hash order when they shared a
/// millisecond: a CI run listed `s2` before `s1`.)
#[tokio::test]
async fn steps_stored_in_one_millisecond_are_listed_in_order() {
    let env = test_redis("durable-order").await;
    let id = uuid::Uuid::now_v7();
    let memo = env
        .client()
        .store()
        .queue_keys("default")
        .unwrap()
        .steps(&id.to_string());
    let mut conn = env.connection().await.unwrap();
    let names: Vec<String> = (0..20).map(|i| format!("step-{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        // `<ms> <output JSON>`, as step_store.lua writes it: all in the
        // same millisecond, 40 µs apart.
        let value = format!("1796000000000.{:03} {i}", 100 + 40 * i);
        let _: () = redis::cmd("HSET")
            .arg(&memo)
            .arg(format!("step:{name}"))
            .arg(value)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let state = env
        .client()
        .admin()
        .durable_state("default", id)
        .await
        .unwrap();
    let listed: Vec<&str> = state.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(listed, names.iter().map(String::as_str).collect::<Vec<_>>());
}
