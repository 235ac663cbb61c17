//! The "sleeping" and "waiting-for-signal" job lists: the dashboard's tabs
//! and the API's list route read the durable indexes (paged), show the
//! parked jobs only there, escape what they echo, and answer bad
//! parameters with a 4xx.

use std::time::Duration;

use axum::http::StatusCode;
use jobqueue_integration::dashboard::{As, Dashboard, operator_config};
use jobqueue_integration::durable_job::DurableJob;
use jobqueue_integration::{test_redis, test_worker};
use jobqueue_testing::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleeping_and_waiting_jobs_are_listed_paged_and_escaped() {
    let env = test_redis("durable-lists").await;
    let dash = Dashboard::new(&env, operator_config());
    let worker = test_worker(&env).start().await.unwrap();
    let trace = format!("{}:trace", env.prefix());
    let mut sleepers = Vec::new();
    for _ in 0..3 {
        let mut job = DurableJob::new(env.url(), &trace, 1);
        job.sleep_ms = Some(600_000);
        sleepers.push(env.client().enqueue(job).await.unwrap());
    }
    let mut job = DurableJob::new(env.url(), &trace, 1);
    job.signal = Some("go".into());
    job.signal_timeout_ms = 600_000;
    let waiter = env.client().enqueue(job).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            let info = env.client().admin().queue("default").await.unwrap();
            info.sleeping == 3 && info.waiting_for_signal == 1
        })
        .await,
        "the jobs parked"
    );

    // API: paged, soonest first, only the jobs of that index.
    let first = dash
        .get("/api/v1/queues/default/jobs/sleeping?limit=2", As::Reader)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let first = first.json();
    assert_eq!(first["total"], 3, "{first}");
    assert_eq!(first["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(first["next_cursor"], 2);
    let rest = dash
        .get(
            "/api/v1/queues/default/jobs/sleeping?limit=2&cursor=2",
            As::Reader,
        )
        .await
        .json();
    assert_eq!(rest["jobs"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest["next_cursor"].is_null());
    let mut listed: Vec<String> = first["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["jobs"].as_array().unwrap())
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut want: Vec<String> = sleepers.iter().map(ToString::to_string).collect();
    want.sort();
    assert_eq!(listed, want);
    let waiting = dash
        .get("/api/v1/queues/default/jobs/waiting-for-signal", As::Reader)
        .await
        .json();
    assert_eq!(waiting["total"], 1, "{waiting}");
    assert_eq!(waiting["jobs"][0]["id"], waiter.to_string());

    // Dashboard tabs, with counts; the echoed filter is escaped.
    let page = dash
        .get(
            "/queues/default/jobs/waiting-for-signal?type=%3Cscript%3Ex",
            As::Reader,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("sleeping <span class=\"count\">3</span>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("waiting-for-signal <span class=\"count\">1</span>")
    );
    assert!(page.body.contains("&lt;script&gt;x"), "escaped");
    assert!(!page.body.contains("<script>x"), "never raw");
    let page = dash.get("/queues/default/jobs/sleeping", As::Reader).await;
    for id in &sleepers {
        assert!(page.body.contains(&id.to_string()), "{}", page.body);
    }
    assert!(!page.body.contains(&waiter.to_string()));

    // Bad parameters are 4xx, never 5xx.
    for path in [
        "/api/v1/queues/default/jobs/sleepy",
        "/api/v1/queues/default/jobs/sleeping?limit=abc",
        "/api/v1/queues/default/jobs/waiting-for-signal?cursor=-1",
        "/queues/default/jobs/sleeping?cursor=x",
        "/queues/default/jobs/waiting_for%3Cb%3E",
    ] {
        let reply = dash.get(path, As::Reader).await;
        assert!(
            reply.status.is_client_error(),
            "{path}: {} {}",
            reply.status,
            reply.body
        );
        // An error page is JSON (not HTML) or escapes what it echoes.
        let json = reply.body.starts_with('{');
        assert!(
            json || !reply.body.contains("<b>"),
            "{path}: {}",
            reply.body
        );
    }
    worker.shutdown().await;
}

/// A tracked durable job's status reads `sleeping` while it sleeps and
/// `waiting_for_signal` while it is parked (written in the same step as
/// the sleep or the park), and `succeeded` at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracked_jobs_status_says_sleeping_or_waiting_for_signal() {
    use jobqueue_core::JobStatusState;
    let env = test_redis("durable-status").await;
    let worker = test_worker(&env).start().await.unwrap();
    let trace = format!("{}:trace", env.prefix());
    let mut job = DurableJob::new(env.url(), &trace, 1);
    job.sleep_ms = Some(600_000);
    let sleeper = env.client().job(job).track().enqueue().await.unwrap();
    let mut job = DurableJob::new(env.url(), &trace, 1);
    job.signal = Some("go".into());
    job.signal_timeout_ms = 600_000;
    let waiter = env.client().job(job).track().enqueue().await.unwrap();
    for (id, want) in [
        (sleeper, JobStatusState::Sleeping),
        (waiter, JobStatusState::WaitingForSignal),
    ] {
        assert!(
            eventually(Duration::from_secs(10), || async {
                let status = env.client().status(id).await.unwrap();
                status.is_some_and(|s| s.state == want)
            })
            .await,
            "{want:?}"
        );
    }
    env.client()
        .signal("default", waiter, "go", &1)
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            let status = env.client().status(waiter).await.unwrap();
            status.is_some_and(|s| s.state == JobStatusState::Succeeded)
        })
        .await,
        "the woken job finished"
    );
    worker.shutdown().await;
}
