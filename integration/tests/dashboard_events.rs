//! Live events and history in the dashboard (issue 16, points 3 and 4):
//! Server-Sent Events over a real socket read by a plain HTTP client
//! (auth, read-only role, resume with `Last-Event-ID`, bad input 4xx),
//! the watch switches in the API and the form (operators only, audited),
//! the history search in the API and its page, hostile text escaped.

use std::time::Duration;

use axum::http::StatusCode;
use jobqueue_core::Admin;
use jobqueue_dashboard::dashboard_router;
use jobqueue_integration::dashboard::{
    As, Dashboard, READER_TOKEN, audit_actions, operator_config,
};
use jobqueue_integration::jobs::TestJob;
use jobqueue_integration::{TestJobTraces, test_redis, test_worker};
use jobqueue_testing::TestRedis;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const HOSTILE: &str = "<script>alert(1)</script>\"'&";

/// Serves the dashboard on a loopback socket; returns its address.
async fn serve(admin: Admin) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = dashboard_router(admin, operator_config());
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    (addr, server)
}

/// One Server-Sent Event as read off the wire.
#[derive(Debug, Clone, PartialEq)]
struct WireEvent {
    event: String,
    id: String,
    data: serde_json::Value,
}

/// Opens `path` with `headers` and returns the status line and, for a
/// 200, the first `n` events (comments and keep-alives skipped).
async fn read_events(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    n: usize,
) -> (String, Vec<WireEvent>) {
    read_events_telling(addr, path, headers, n, None).await
}

/// As [`read_events`], sending on `headers_read` once the response's
/// headers are in (a 200's stream has its position then).
async fn read_events_telling(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    n: usize,
    headers_read: Option<tokio::sync::oneshot::Sender<()>>,
) -> (String, Vec<WireEvent>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).await.unwrap();
    let mut content_type = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line.to_ascii_lowercase().starts_with("content-type:") {
            content_type = line.clone();
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut events = Vec::new();
    if !status.contains(" 200 ") {
        return (status, events);
    }
    assert!(content_type.contains("text/event-stream"), "{content_type}");
    if let Some(ready) = headers_read {
        let _ = ready.send(());
    }
    let (mut event, mut id) = (String::new(), String::new());
    let read = async {
        while events.len() < n {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            // Chunked transfer: chunk sizes are lines of hex digits.
            let line = line.trim_end();
            if let Some(value) = line.strip_prefix("event: ").or(line.strip_prefix("event:")) {
                event = value.trim().to_owned();
            } else if let Some(value) = line.strip_prefix("id: ").or(line.strip_prefix("id:")) {
                id = value.trim().to_owned();
            } else if let Some(value) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
                events.push(WireEvent {
                    event: event.clone(),
                    id: id.clone(),
                    data: serde_json::from_str(value.trim()).unwrap_or(serde_json::Value::Null),
                });
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("only {} events came", events.len()));
    (status, events)
}

/// Runs `n` more test jobs on a worker of its own, and stops it once they
/// are done. (Done counts every job the test ran so far: waiting for `n`
/// alone let a second call stop its worker before its job ran, and the job
/// was handed back unfinished.)
async fn run_jobs(env: &TestRedis, n: usize) {
    let done_before = env.done_count().await as usize;
    let worker = test_worker(env).start().await.unwrap();
    for _ in 0..n {
        env.client().job(env.test_job()).enqueue().await.unwrap();
    }
    assert!(
        env.wait_done(done_before + n, Duration::from_secs(10))
            .await
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_as_server_sent_events_and_resume_after_the_last_id() {
    let env = test_redis("dash-sse").await;
    let admin = env.client().admin();
    admin.set_event_stream("default", Some(1000)).await.unwrap();
    run_jobs(&env, 3).await;
    let (addr, server) = serve(admin.clone()).await;
    let reader = format!("Bearer {READER_TOKEN}");
    let auth = [("Authorization", reader.as_str())];

    // The read-only role may watch; every event kept, oldest first.
    let (status, events) =
        read_events(addr, "/api/v1/queues/default/events?from=oldest", &auth, 9).await;
    assert!(status.contains(" 200 "), "{status}");
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "enqueued").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "started").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "succeeded").count(), 3);
    for event in &events {
        assert_eq!(event.data["kind"], event.event);
        assert_eq!(event.data["id"], event.id.as_str());
        assert_eq!(event.data["queue"], "default");
    }

    // A browser reconnecting sends Last-Event-ID and gets the rest.
    let last = events[3].id.clone();
    let resume = [
        ("Authorization", reader.as_str()),
        ("Last-Event-ID", last.as_str()),
    ];
    let (_, rest) = read_events(addr, "/api/v1/queues/default/events", &resume, 5).await;
    assert_eq!(rest, events[4..]);

    // From now: only what happens next.
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let live = tokio::spawn(async move {
        let reader = format!("Bearer {READER_TOKEN}");
        read_events_telling(
            addr,
            "/api/v1/queues/default/events",
            &[("Authorization", reader.as_str())],
            3,
            Some(ready_tx),
        )
        .await
    });
    // Once the headers came, the stream's position is fixed: nothing
    // after it is missed, however slow the machine.
    ready_rx.await.unwrap();
    run_jobs(&env, 1).await;
    let (_, next) = live.await.unwrap();
    let kinds: Vec<&str> = next.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["enqueued", "started", "succeeded"]);

    // Bad input is a 4xx, no credentials a 401.
    for (path, want) in [
        ("/api/v1/queues/default/events?after=xyz", " 400 "),
        ("/api/v1/queues/default/events?from=yesterday", " 400 "),
        ("/api/v1/queues/nope/events", " 404 "),
        ("/api/v1/queues/%3Cb%3E/events", " 400 "),
    ] {
        let (status, _) = read_events(addr, path, &auth, 0).await;
        assert!(status.contains(want), "{path}: {status}");
    }
    let (status, _) = read_events(addr, "/api/v1/queues/default/events", &[], 0).await;
    assert!(status.contains(" 401 "), "{status}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_switch_watching_and_search_the_history_in_api_and_pages() {
    let env = test_redis("dash-history").await;
    let dash = Dashboard::new(&env, operator_config());
    let client = env.client();
    client.job(env.test_job()).enqueue().await.unwrap();

    // Off by default; a reader may look, not change.
    let watch = dash.get("/api/v1/queues/default/watch", As::Reader).await;
    assert_eq!(watch.status, StatusCode::OK);
    assert_eq!(watch.json()["events_cap"], serde_json::Value::Null);
    let body = r#"{"events_cap":500,"history_cap":1000}"#;
    let put = |who| {
        dash.send(
            axum::http::Method::PUT,
            "/api/v1/queues/default/watch",
            who,
            &[("content-type", "application/json")],
            body,
        )
    };
    assert_eq!(put(As::Reader).await.status, StatusCode::FORBIDDEN);
    let on = put(As::Operator).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.json()["history_max"], 10_000);
    assert!(
        audit_actions(&env, 5)
            .await
            .contains(&"set_watch default events (500) · history (1000, at most 10000)".to_owned())
    );
    let bad = dash
        .send(
            axum::http::Method::PUT,
            "/api/v1/queues/default/watch",
            As::Operator,
            &[("content-type", "application/json")],
            r#"{"events_cap":"many"}"#,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Jobs with hostile tags and errors end; the history finds them.
    let worker = test_worker(&env).start().await.unwrap();
    let id = client
        .job(TestJob {
            permanent: true,
            ..env.test_job()
        })
        .tags([HOSTILE])
        .enqueue()
        .await
        .unwrap();
    assert!(
        jobqueue_testing::eventually(Duration::from_secs(10), || async {
            client.admin().queue("default").await.unwrap().dead == 1
        })
        .await
    );
    worker.shutdown().await;
    let tag = form_urlencoded::byte_serialize(HOSTILE.as_bytes()).collect::<String>();
    let found = dash
        .get(
            &format!("/api/v1/queues/default/history?tag={tag}"),
            As::Reader,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let entries = found.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["job_id"], id.to_string());
    assert_eq!(entries[0]["outcome"], "dead");
    assert_eq!(entries[0]["tags"][0], HOSTILE);
    let status = dash
        .get("/api/v1/queues/default/history/status", As::Reader)
        .await;
    assert_eq!(status.json()["kept"], 2, "the first job and the dead one");

    // The page shows it, escaped; the feed is there because events are on.
    let page = dash
        .get(&format!("/queues/default/history?tag={tag}"), As::Browser)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"history-results\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains(HOSTILE));
    assert!(page.body.contains("id=\"live-events\""));
    assert!(page.body.contains("data-on=\"true\""));

    // Bad searches are 400s, never 5xx.
    for query in [
        "date=2026-13-01",
        "budget=0",
        "budget=x",
        "outcome=exploded",
        "cursor=%2B",
    ] {
        let reply = dash
            .get(
                &format!("/api/v1/queues/default/history?{query}"),
                As::Reader,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
    }

    // The form turns events off again (history stays on).
    let form = dash
        .post_form(
            "/queues/default/watch",
            "events_cap=&history_cap=1000&history_max=",
        )
        .await;
    assert!(
        form.status.is_redirection(),
        "{}: {}",
        form.status,
        form.body
    );
    let watch = dash
        .get("/api/v1/queues/default/watch", As::Reader)
        .await
        .json();
    assert_eq!(watch["events_cap"], serde_json::Value::Null);
    assert_eq!(watch["history_cap"], 1000);
    let bad_form = dash
        .post_form("/queues/default/watch", "events_cap=5")
        .await;
    assert_eq!(bad_form.status, StatusCode::BAD_REQUEST);
}
