//! Alerts against real Redis and a local HTTP receiver: signed,
//! Slack-shaped webhooks; deduplication within the cool-down; the per-sink
//! rate limit; each rule kind firing when its condition holds and not
//! otherwise; retries; one leader among evaluators and failover when it
//! stops; the audit entry; HTTPS with certificate checks; the Alerts page
//! and API (hostile names escaped).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jobqueue_core::cron::CronEntry;
use jobqueue_dashboard::alerts::{
    AlertEvaluator, AlertsConfig, Delivery, DeliveryOutcome, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use jobqueue_integration::dashboard::{As, Dashboard, make_dead_jobs, operator_config};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::test_redis;
use jobqueue_integration::tls_certs::TlsCerts;
use jobqueue_testing::{TestRedis, eventually};
use sha2::{Digest, Sha256};

const SECRET: &str = "a-webhook-secret";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A local webhook receiver: records every request; answers 500 to the
/// first `fail_first` ones, then 200 (or never answers when `hang`).
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
    hang: bool,
}

impl Receiver {
    async fn start(self) -> (Self, String) {
        async fn hook(
            State(receiver): State<Receiver>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            receiver.received.lock().unwrap().push(Received {
                headers,
                body: body.to_vec(),
            });
            if receiver.hang {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            let failing = receiver.fail_first.load(Ordering::SeqCst);
            if failing > 0 {
                receiver.fail_first.store(failing - 1, Ordering::SeqCst);
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            StatusCode::OK
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/services/T000/B000/secret-path",
            listener.local_addr().unwrap()
        );
        let app = Router::new()
            .route("/services/T000/B000/secret-path", post(hook))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (self, url)
    }

    fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// HMAC-SHA256 written out from its definition (RFC 2104), so the check
/// does not reuse the code under test.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A config with one sink at `url` and `rules` (a JSON array's items).
fn config(url: &str, sink_extra: &str, rules: &str) -> Arc<AlertsConfig> {
    Arc::new(
        AlertsConfig::from_json(&format!(
            r#"{{"interval_secs": 0.2, "lease_secs": 1,
                 "sinks": [{{"name": "ops", "url": "{url}", "secret": "{SECRET}", "timeout_secs": 2 {sink_extra}}}],
                 "rules": [{rules}]}}"#
        ))
        .unwrap(),
    )
}

fn evaluator(env: &TestRedis, config: &Arc<AlertsConfig>) -> AlertEvaluator {
    AlertEvaluator::new(env.client().admin(), config.clone()).unwrap()
}

/// Evaluates once as leader (the only evaluator alive on the test's
/// prefix; a restarted one waits for its predecessor's lease to lapse).
async fn evaluate(evaluator: &AlertEvaluator) -> Vec<Delivery> {
    for _ in 0..30 {
        if let Some(deliveries) = evaluator.evaluate_if_leader().await.unwrap() {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the only evaluator never led");
}

fn fired_rules(deliveries: &[Delivery]) -> Vec<String> {
    let mut rules: Vec<String> = deliveries.iter().map(|d| d.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    rules
}

/// Waits until the current Redis minute has 10+ s left, so a test of the
/// per-minute limit does not straddle two windows.
async fn away_from_minute_end(env: &TestRedis) {
    let now = env.client().store().redis_time_ms().await.unwrap();
    let into_minute = now % 60_000;
    if into_minute > 50_000 {
        tokio::time::sleep(Duration::from_millis((60_500 - into_minute) as u64)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_is_signed_slack_shaped_deduplicated_and_audited() {
    let env = test_redis("alerts-signed").await;
    let (receiver, url) = Receiver::default().start().await;
    let config = config(
        &url,
        "",
        r#"{"name": "dead-spike", "kind": "dead_rate", "queue": "default", "per_minute": 0.5, "window_secs": 60}"#,
    );
    let evaluator = evaluator(&env, &config);
    make_dead_jobs(&env, &["db down".to_owned(), "db down".to_owned()], "").await;

    let deliveries = evaluate(&evaluator).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].outcome, DeliveryOutcome::Sent { attempts: 1 });
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];

    // The signature: HMAC-SHA256 of "<timestamp>.<body>", fresh timestamp.
    let timestamp = request.headers[TIMESTAMP_HEADER].to_str().unwrap();
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {timestamp}");
    let mut signed = timestamp.as_bytes().to_vec();
    signed.push(b'.');
    signed.extend_from_slice(&request.body);
    assert_eq!(
        request.headers[SIGNATURE_HEADER].to_str().unwrap(),
        format!("sha256={}", hmac_sha256_hex(SECRET.as_bytes(), &signed))
    );
    assert_ne!(
        request.headers[SIGNATURE_HEADER].to_str().unwrap(),
        format!("sha256={}", hmac_sha256_hex(b"another secret", &signed)),
    );
    assert_eq!(request.headers["content-type"], "application/json");

    // Slack-compatible: a `text`, plus the structured fields.
    let body = request.json();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("dead-spike") && text.contains("2 jobs died"),
        "{text}"
    );
    assert_eq!(body["rule"], "dead-spike");
    assert_eq!(body["kind"], "dead_rate");
    assert_eq!(body["fingerprint"], "dead_rate:default");
    assert_eq!(body["test"], false);
    assert_eq!(body["prefix"], env.prefix());

    // Same fingerprint within the cool-down (15 min by default): no second
    // request, counted as deduplicated; a new evaluator (a restart) too.
    assert!(evaluate(&evaluator).await.is_empty());
    drop(evaluator);
    let restarted = self::evaluator(&env, &config);
    assert!(evaluate(&restarted).await.is_empty());
    assert_eq!(receiver.requests().len(), 1);
    let state = &env
        .client()
        .admin()
        .alert_rule_states(&["dead-spike"])
        .await
        .unwrap()[0];
    assert_eq!(state.status.as_deref(), Some("firing"));
    assert_eq!((state.fired, state.deduped), (1, 2));
    assert!(state.last_fired_at.is_some());
    assert_eq!(state.last_fingerprint.as_deref(), Some("dead_rate:default"));
    assert_eq!(state.last_delivery.as_deref(), Some("ops: sent"));

    // The audit log has the firing, by the alerts actor.
    let log = env.client().admin().audit_log(None, 10).await.unwrap();
    let fired: Vec<_> = log.iter().filter(|e| e.action == "alert_fired").collect();
    assert_eq!(fired.len(), 1, "{log:?}");
    assert_eq!(fired[0].actor, "alerts");
    assert!(
        fired[0].target.starts_with("dead-spike: 2 jobs died"),
        "{}",
        fired[0].target
    );
    assert!(
        fired[0].target.ends_with("[ops: sent]"),
        "{}",
        fired[0].target
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_over_its_rate_limit_suppresses_and_counts() {
    let env = test_redis("alerts-rate").await;
    let (receiver, url) = Receiver::default().start().await;
    let config = config(
        &url,
        r#", "max_per_minute": 2"#,
        r#"{"name": "a", "kind": "new_error"}, {"name": "b", "kind": "new_error"}, {"name": "c", "kind": "new_error"}"#,
    );
    let evaluator = evaluator(&env, &config);
    away_from_minute_end(&env).await;
    let mut outcomes = Vec::new();
    for rule in ["a", "b", "c", "a"] {
        let deliveries = evaluator.send_test(rule).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        outcomes.push(deliveries[0].outcome.clone());
    }
    assert_eq!(
        outcomes,
        vec![
            DeliveryOutcome::Sent { attempts: 1 },
            DeliveryOutcome::Sent { attempts: 1 },
            DeliveryOutcome::Suppressed,
            DeliveryOutcome::Suppressed,
        ]
    );
    assert_eq!(receiver.requests().len(), 2, "only two reach the sink");
    assert_eq!(receiver.requests()[0].json()["test"], true);
    let admin = env.client().admin();
    let sink = admin.alert_sink_states(&["ops"]).await.unwrap()[0];
    assert_eq!(
        (
            sink.sent_this_minute,
            sink.suppressed_total,
            sink.pending_suppressed
        ),
        (2, 2, 2)
    );
    let states = admin.alert_rule_states(&["a", "c"]).await.unwrap();
    assert_eq!((states[0].fired, states[0].suppressed), (2, 1));
    assert_eq!(states[1].suppressed, 1);
    // Suppressed firings are audited too, marked as such.
    let log = admin.audit_log(None, 10).await.unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "alert_test" && e.target.ends_with("[ops: suppressed]"))
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_then_reported() {
    let env = test_redis("alerts-retry").await;
    let failing = Receiver::default();
    failing.fail_first.store(2, Ordering::SeqCst);
    let (receiver, url) = failing.start().await;
    let config = config(
        &url,
        r#", "attempts": 3"#,
        r#"{"name": "r", "kind": "new_error"}"#,
    );
    let deliveries = evaluator(&env, &config).send_test("r").await.unwrap();
    assert_eq!(deliveries[0].outcome, DeliveryOutcome::Sent { attempts: 3 });
    assert_eq!(receiver.requests().len(), 3);

    // A sink that never answers: each try times out, the last error is kept.
    let (hanging, url) = Receiver {
        hang: true,
        ..Receiver::default()
    }
    .start()
    .await;
    let config = Arc::new(
        AlertsConfig::from_json(&format!(
            r#"{{"sinks": [{{"name": "slow", "url": "{url}", "timeout_secs": 0.3, "attempts": 2}}],
                 "rules": [{{"name": "r", "kind": "new_error"}}]}}"#
        ))
        .unwrap(),
    );
    let started = std::time::Instant::now();
    let deliveries = evaluator(&env, &config).send_test("r").await.unwrap();
    assert_eq!(
        deliveries[0].outcome,
        DeliveryOutcome::Failed {
            attempts: 2,
            error: "timed out".to_owned()
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        started.elapsed()
    );
    assert_eq!(hanging.requests().len(), 2);
    let state = &env
        .client()
        .admin()
        .alert_rule_states(&["r"])
        .await
        .unwrap()[0];
    assert_eq!(
        state.last_delivery.as_deref(),
        Some("slow: failed: timed out")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_rate_and_latency_fire_only_above_their_thresholds() {
    let env = test_redis("alerts-thresholds").await;
    let (receiver, url) = Receiver::default().start().await;
    let config = config(
        &url,
        "",
        r#"{"name": "dead-low", "kind": "dead_rate", "per_minute": 1, "window_secs": 60},
           {"name": "dead-high", "kind": "dead_rate", "per_minute": 100, "window_secs": 60},
           {"name": "slow-q", "kind": "latency_slo", "queue": "slow", "max_latency_secs": 0.5},
           {"name": "slow-any", "kind": "latency_slo", "max_latency_secs": 0.5},
           {"name": "lenient", "kind": "latency_slo", "queue": "slow", "max_latency_secs": 60}"#,
    );
    let evaluator = evaluator(&env, &config);
    // Nothing yet: nothing fires, every rule is checked and ok.
    assert!(evaluate(&evaluator).await.is_empty());
    let names = ["dead-low", "dead-high", "slow-q", "slow-any", "lenient"];
    let states = env
        .client()
        .admin()
        .alert_rule_states(&names)
        .await
        .unwrap();
    assert!(
        states.iter().all(|s| s.status.as_deref() == Some("ok")),
        "{states:?}"
    );

    // 3 deaths in a minute: above 1/min, below 100/min.
    make_dead_jobs(
        &env,
        &(0..3).map(|i| format!("boom {i}")).collect::<Vec<_>>(),
        "",
    )
    .await;
    // A job waiting on queue "slow" for over 0.5 s.
    env.client()
        .job(NoopJob { n: 1 })
        .queue("slow")
        .enqueue()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let deliveries = evaluate(&evaluator).await;
    assert_eq!(
        fired_rules(&deliveries),
        vec!["dead-low", "slow-any", "slow-q"]
    );
    let bodies: Vec<serde_json::Value> = receiver.requests().iter().map(Received::json).collect();
    assert!(bodies.iter().any(|b| {
        b["fingerprint"] == "latency:slow"
            && b["message"]
                .as_str()
                .unwrap()
                .contains("queue slow: oldest ready job waited")
    }));
    let states = env
        .client()
        .admin()
        .alert_rule_states(&names)
        .await
        .unwrap();
    let status: Vec<_> = states.iter().map(|s| s.status.clone().unwrap()).collect();
    assert_eq!(status, vec!["firing", "ok", "firing", "firing", "ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_tick_no_scheduler_ran_fires_once() {
    let env = test_redis("alerts-cron").await;
    let (receiver, url) = Receiver::default().start().await;
    let config = config(
        &url,
        "",
        r#"{"name": "missed", "kind": "cron_missed", "grace_secs": 0.5},
           {"name": "missed-other", "kind": "cron_missed", "cron": "other", "grace_secs": 0.5}"#,
    );
    let store = env.client().store().clone();
    // An entry due every second, and one due once a year: one scheduler
    // pass each (it enqueues the ticks of the next 2 s), then none.
    let every_second = CronEntry::new("every-second", "* * * * * *", &NoopJob { n: 1 }).unwrap();
    let yearly = CronEntry::new("yearly", "0 0 0 1 1 *", &NoopJob { n: 2 }).unwrap();
    for entry in [&every_second, &yearly] {
        entry.register(&store).await.unwrap();
        entry.run_pass(&store).await.unwrap();
    }
    let evaluator = evaluator(&env, &config);
    assert!(evaluate(&evaluator).await.is_empty(), "on time so far");

    // Past the enqueued lookahead and the grace, with no scheduler.
    tokio::time::sleep(Duration::from_millis(4_200)).await;
    let deliveries = evaluate(&evaluator).await;
    assert_eq!(fired_rules(&deliveries), vec!["missed"], "{deliveries:?}");
    let body = receiver.requests()[0].json();
    assert!(
        body["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("cron:default/every-second@")
    );
    assert!(
        body["message"].as_str().unwrap().contains("did not run"),
        "{body}"
    );
    // The same missed tick does not fire again; a scheduler catching up
    // clears the state.
    assert!(evaluate(&evaluator).await.is_empty());
    every_second.run_pass(&store).await.unwrap();
    assert!(evaluate(&evaluator).await.is_empty());
    let state = &env
        .client()
        .admin()
        .alert_rule_states(&["missed"])
        .await
        .unwrap()[0];
    assert_eq!(state.status.as_deref(), Some("ok"));
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_error_fires_once_even_across_restarts() {
    let env = test_redis("alerts-new-error").await;
    let (receiver, url) = Receiver::default().start().await;
    let config = config(
        &url,
        "",
        r#"{"name": "new", "kind": "new_error", "queue": "*"}"#,
    );
    // Errors from before the rule existed are its baseline, not news.
    make_dead_jobs(&env, &["connection refused: db-1:5432".to_owned()], "").await;
    let first = evaluator(&env, &config);
    assert!(
        evaluate(&first).await.is_empty(),
        "the first look records only"
    );

    // The same error again (other numbers, same fingerprint): not new.
    make_dead_jobs(&env, &["connection refused: db-7:5432".to_owned()], "").await;
    assert!(evaluate(&first).await.is_empty());

    // A new kind of error fires, once.
    make_dead_jobs(&env, &["invalid address 'bob@'".to_owned()], "").await;
    let deliveries = evaluate(&first).await;
    assert_eq!(fired_rules(&deliveries), vec!["new"]);
    let body = receiver.requests()[0].json();
    assert!(body["fingerprint"].as_str().unwrap().starts_with("error:"));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("invalid address"),
        "{body}"
    );
    assert!(evaluate(&first).await.is_empty());

    // A restarted (or second) dashboard remembers it through Redis, even
    // once the cool-down is over (it is not deduplication).
    drop(first);
    let fingerprint = body["fingerprint"].as_str().unwrap();
    let mut conn = env.connection().await.unwrap();
    let digest: String = Sha256::new()
        .chain_update(b"new\0")
        .chain_update(fingerprint.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let removed: u64 = redis::cmd("DEL")
        .arg(format!("{}:{{alerts}}:dedup:{digest}", env.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(removed, 1, "the cool-down was there");
    let restarted = evaluator(&env, &config);
    assert!(evaluate(&restarted).await.is_empty());
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_evaluator_leads_and_another_takes_over_when_it_stops() {
    let env = test_redis("alerts-leader").await;
    let (_receiver, url) = Receiver::default().start().await;
    let config = config(&url, "", r#"{"name": "r", "kind": "new_error"}"#);
    let (a, b) = (evaluator(&env, &config), evaluator(&env, &config));
    let admin = env.client().admin();

    // Exactly one leads: the first to ask; the other is refused while the
    // leader renews.
    assert!(a.evaluate_if_leader().await.unwrap().is_some());
    for _ in 0..3 {
        assert!(b.evaluate_if_leader().await.unwrap().is_none());
        assert!(a.evaluate_if_leader().await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (leader, left) = admin.alerts_leader().await.unwrap().unwrap();
    assert_eq!(leader, a.holder_id());
    assert!(left <= Duration::from_secs(1));

    // Running both: a keeps leading; stop it (as if it died) and b takes
    // over within the lease.
    let (b_id, a_id) = (b.holder_id().to_owned(), a.holder_id().to_owned());
    let a_handle = a.spawn();
    let b_handle = b.spawn();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(admin.alerts_leader().await.unwrap().unwrap().0, a_id);
    a_handle.stop();
    assert!(
        eventually(Duration::from_secs(3), || async {
            admin.alerts_leader().await.unwrap().map(|(h, _)| h) == Some(b_id.clone())
        })
        .await,
        "b took over"
    );
    // b's evaluations run: the rule is checked again after the takeover.
    let checked = admin.alert_rule_states(&["r"]).await.unwrap()[0].checked_at;
    assert!(
        eventually(Duration::from_secs(2), || async {
            admin.alert_rule_states(&["r"]).await.unwrap()[0].checked_at > checked
        })
        .await
    );
    b_handle.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_page_and_api_list_rules_with_hostile_names_escaped() {
    let env = test_redis("alerts-page").await;
    let (_receiver, url) = Receiver::default().start().await;
    let hostile = r#"<script>alert(1)</script>\u202e"#;
    let config = config(
        &url,
        "",
        &format!(
            r#"{{"name": "{hostile}", "kind": "dead_rate", "per_minute": 0, "window_secs": 60}},
               {{"name": "quiet", "kind": "latency_slo", "max_latency_secs": 60}}"#
        ),
    );
    make_dead_jobs(&env, &["<img src=x onerror=alert(2)>".to_owned()], "").await;
    evaluate(&evaluator(&env, &config)).await;
    let dash = Dashboard::new(&env, operator_config().alerts(config.clone()));

    let page = dash.get("/alerts", As::Reader).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(
        !page.body.contains('\u{202e}'),
        "bidi override shown escaped"
    );
    assert!(
        page.body
            .contains(r#"<span class="badge failed">firing</span>"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<span class="badge succeeded">ok</span>"#)
    );
    assert!(
        !page.body.contains("secret-path"),
        "a webhook URL is a credential"
    );
    assert!(page.body.contains("127.0.0.1"));

    let api = dash.get("/api/v1/alerts", As::Reader).await;
    assert_eq!(api.status, StatusCode::OK);
    let json = api.json();
    assert_eq!(json["configured"], true);
    assert_eq!(
        json["rules"][0]["name"],
        "<script>alert(1)</script>\u{202e}"
    );
    assert_eq!(json["rules"][0]["status"], "firing");
    assert_eq!(json["rules"][0]["fired"], 1);
    assert!(json["rules"][0]["last_fired_at"].is_string());
    assert_eq!(json["rules"][1]["status"], "ok");
    assert_eq!(json["sinks"][0]["signed"], true);
    assert!(!api.body.contains("secret-path"));
    assert_eq!(
        dash.get("/api/v1/alerts", As::Nobody).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Without rules the page says how to configure them.
    let bare = Dashboard::new(&env, operator_config());
    let page = bare.get("/alerts", As::Reader).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("JOBQUEUE_ALERTS_FILE"));
    assert_eq!(
        bare.get("/api/v1/alerts", As::Reader).await.json()["configured"],
        false
    );
}

/// An HTTPS receiver with a certificate of `certs`' CA: accepts one
/// request per connection, answers 200, hands back each request's body.
async fn https_receiver(
    certs: &TlsCerts,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_native_tls::native_tls;

    let read = |name: &str| std::fs::read(certs.ca().with_file_name(name)).unwrap();
    let identity =
        native_tls::Identity::from_pkcs8(&read("server.crt"), &read("server.key")).unwrap();
    let acceptor =
        tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let (sent, bodies) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, sent) = (acceptor.clone(), sent.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then Content-Length bytes of body.
                let body_start = loop {
                    let Ok(n) = tls.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break end + 4;
                    }
                };
                let head = String::from_utf8_lossy(&request[..body_start]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while request.len() < body_start + length {
                    let Ok(n) = tls.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let _ = sent.send(request[body_start..body_start + length].to_vec());
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_sinks_verify_the_certificate() {
    let env = test_redis("alerts-https").await;
    let certs = TlsCerts::generate();
    let (url, mut bodies) = https_receiver(&certs).await;
    let sink = |extra: &str| {
        Arc::new(
            AlertsConfig::from_json(&format!(
                r#"{{"sinks": [{{"name": "tls", "url": "{url}", "timeout_secs": 5, "attempts": 1 {extra}}}],
                     "rules": [{{"name": "r", "kind": "new_error"}}]}}"#
            ))
            .unwrap(),
        )
    };
    // Trusting the receiver's CA: delivered over TLS.
    let trusting = sink(&format!(r#", "ca_file": "{}""#, certs.ca().display()));
    let deliveries = evaluator(&env, &trusting).send_test("r").await.unwrap();
    assert_eq!(deliveries[0].outcome, DeliveryOutcome::Sent { attempts: 1 });
    let body: serde_json::Value = serde_json::from_slice(&bodies.recv().await.unwrap()).unwrap();
    assert_eq!(body["rule"], "r");

    // With the public roots only, the private CA's certificate is refused.
    let deliveries = evaluator(&env, &sink("")).send_test("r").await.unwrap();
    let DeliveryOutcome::Failed { attempts: 1, error } = &deliveries[0].outcome else {
        panic!("{deliveries:?}");
    };
    assert!(error.contains("certificate"), "says why: {error}");
    assert!(bodies.try_recv().is_err(), "nothing reached the receiver");
}
