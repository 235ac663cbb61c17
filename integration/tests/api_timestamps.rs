//! Every time in the JSON API is one format: RFC 3339 in UTC with
//! milliseconds (`2026-01-02T03:04:05.678Z`), as the OpenAPI document says
//! (`format: date-time`). The test fills a queue with jobs in every state,
//! a tracked job's status, a cron entry that ran, a live worker and audit
//! entries, then walks every GET endpoint's response.

use std::time::Duration;

use jobqueue_core::cron::CronEntry;
use jobqueue_integration::dashboard::{As, Dashboard, make_dead_jobs, operator_config};
use jobqueue_integration::probe::ProbeJob;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::eventually;
use serde_json::Value;

/// Names of members that hold a point in time.
fn is_time_member(name: &str) -> bool {
    name == "at" || name.ends_with("_at") || name.ends_with("_at_ms") || name == "tick_ms"
}

/// True for `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_rfc3339_millis(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| range.into_iter().all(|i| bytes[i].is_ascii_digit());
    bytes.len() == 24
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && bytes[10] == b'T'
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && bytes[19] == b'.'
        && digits(20..23)
        && bytes[23] == b'Z'
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Every time member under `value` (path, value), and every string that
/// looks like a date but is not in the one format.
fn walk(path: &str, value: &Value, times: &mut Vec<(String, Value)>, bad: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let here = format!("{path}.{name}");
                if is_time_member(name) && !member.is_null() {
                    times.push((here.clone(), member.clone()));
                }
                walk(&here, member, times, bad);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), item, times, bad);
            }
        }
        Value::String(text) => {
            let dated = text.len() >= 19
                && text.as_bytes()[4] == b'-'
                && text.as_bytes()[10] == b'T'
                && chrono::DateTime::parse_from_rfc3339(text).is_ok();
            if dated && !is_rfc3339_millis(text) {
                bad.push(format!("{path} = {text}"));
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_time_in_the_api_is_rfc3339_utc_with_milliseconds() {
    let env = test_redis("api-times").await;
    make_dead_jobs(&env, &["disk full".to_owned()], "").await;
    let client = env.client();
    let probe = ProbeJob::new(env.url(), &format!("{}:probe", env.prefix()));
    let tracked = client.job(probe.clone()).track().enqueue().await.unwrap();
    let entry = CronEntry::new("beat", "* * * * * *", &probe).unwrap();
    let worker = test_worker(&env).cron_entry(entry).start().await.unwrap();
    let done = eventually(Duration::from_secs(10), || async {
        client
            .status(tracked)
            .await
            .unwrap()
            .is_some_and(|s| s.state.is_final())
    })
    .await;
    assert!(done);
    let later = client
        .job(probe.clone())
        .delay(Duration::from_secs(3600))
        .track()
        .enqueue()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let dash = Dashboard::new(&env, operator_config());
    // One operator action for the audit log.
    let cancelled = dash
        .send(
            axum::http::Method::POST,
            &format!("/api/v1/queues/default/job/{later}/cancel"),
            As::Operator,
            &[],
            "",
        )
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.body);
    let dead = dash
        .get("/api/v1/queues/default/jobs/dead", As::Reader)
        .await
        .json();
    let dead_id = dead["jobs"][0]["id"].as_str().unwrap().to_owned();

    let paths = [
        "/api/v1/stats".to_owned(),
        "/api/v1/history/minutes".to_owned(),
        "/api/v1/history/days".to_owned(),
        "/api/v1/queues".to_owned(),
        "/api/v1/queues/default".to_owned(),
        "/api/v1/queues/default/jobs/dead".to_owned(),
        "/api/v1/queues/default/jobs/cancelled".to_owned(),
        "/api/v1/queues/default/groups".to_owned(),
        format!("/api/v1/queues/default/job/{dead_id}"),
        format!("/api/v1/jobs/{dead_id}"),
        format!("/api/v1/jobs/{later}"),
        format!("/api/v1/jobs/{tracked}/status"),
        "/api/v1/workers".to_owned(),
        "/api/v1/audit".to_owned(),
        "/api/v1/cron".to_owned(),
        "/api/v1/queues/default/limits".to_owned(),
        "/api/v1/queues/default/keys".to_owned(),
    ];
    let mut times = Vec::new();
    let mut bad = Vec::new();
    for path in &paths {
        let reply = dash.get(path, As::Reader).await;
        assert!(
            reply.status.is_success(),
            "{path}: {} {}",
            reply.status,
            reply.body
        );
        walk(path, &reply.json(), &mut times, &mut bad);
    }
    for (path, value) in &times {
        eprintln!("{path} = {value}");
        if !value.as_str().is_some_and(is_rfc3339_millis) {
            bad.push(format!("{path} = {value}"));
        }
    }
    assert!(
        bad.is_empty(),
        "times not in RFC 3339 UTC with ms:\n{}",
        bad.join("\n")
    );
    // The walk saw the times that matter.
    let expected = [
        "enqueued_at",
        "updated_at",
        "started_at",
        "last_beat_at",
        "newest_at",
        "taken_at",
        "errors[0].at",
        "last_result.tick_at",
        "last_result.finished_at",
        "minutes[0].at",
        "audit[0].at",
    ];
    for member in expected {
        assert!(
            times.iter().any(|(path, _)| path.ends_with(member)),
            "no {member} seen"
        );
    }
    worker.shutdown().await;

    // The OpenAPI document says so for every time member.
    let doc = dash.get("/api/v1/openapi.json", As::Reader).await.json();
    let mut checked = 0;
    for (schema, body) in doc["components"]["schemas"].as_object().unwrap() {
        let Some(properties) = body["properties"].as_object() else {
            continue;
        };
        for (name, property) in properties {
            if is_time_member(name) || name == "next_run" || name == "last_enqueued_tick" {
                checked += 1;
                assert_eq!(
                    property["format"], "date-time",
                    "{schema}.{name} in openapi.json: {property}"
                );
            }
        }
    }
    assert!(checked >= 12, "only {checked} time members in openapi.json");
}
