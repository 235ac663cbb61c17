//! Property test ("fuzzing" with proptest) of every dashboard input an
//! outsider controls: query strings, path segments and form bodies. Whatever
//! arrives, the answer is a page or a 4xx with a message — never a 5xx and
//! never a panic — and a POST never changes anything without a valid token.

use std::sync::OnceLock;

use axum::http::Method;
use jobqueue_integration::dashboard::{As, Dashboard, operator_config};
use jobqueue_integration::{TestJobTraces, test_redis};
use jobqueue_testing::TestRedis;
use proptest::prelude::*;
use tokio::runtime::Runtime;

/// One runtime and one dashboard (over a few real jobs) shared by every case.
fn fixture() -> &'static (Runtime, Dashboard, TestRedis) {
    static FIXTURE: OnceLock<(Runtime, Dashboard, TestRedis)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = Runtime::new().expect("tokio runtime");
        let (dash, env) = runtime.block_on(async {
            let env = test_redis("dash-fuzz").await;
            for _ in 0..3 {
                env.client().enqueue(env.test_job()).await.expect("enqueue");
            }
            // The history on, so its searches read a real stream.
            env.client()
                .admin()
                .set_history("default", Some(1000), None)
                .await
                .expect("history on");
            (Dashboard::new(&env, operator_config()), env)
        });
        (runtime, dash, env)
    })
}

/// Text that stresses parsers: escapes, numbers at the edges, markup,
/// control characters, long runs and arbitrary unicode.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-1".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("%FF%00%ZZ".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("00000000-0000-0000-0000-000000000000".to_owned()),
        "[0-9]{1,25}",
        "[a-z_]{1,12}",
        "\\PC{0,40}",
        ".{0,300}",
    ]
}

/// A query string of 0-6 parameters, names from what the dashboard reads
/// plus unknown ones, values hostile, percent-encoded as a browser would
/// (or not at all).
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("cursor"),
        Just("limit"),
        Just("type"),
        Just("error"),
        Just("fingerprint"),
        Just("count"),
        Just("page"),
        Just("id"),
        Just("queue"),
        Just("date"),
        Just("job"),
        Just("tag"),
        Just("outcome"),
        Just("budget"),
        Just("zzz"),
    ];
    (
        proptest::collection::vec((name, hostile_text()), 0..6),
        any::<bool>(),
    )
        .prop_map(|(pairs, encode)| {
            pairs
                .into_iter()
                .map(|(name, value)| {
                    if encode {
                        form_urlencoded::Serializer::new(String::new())
                            .append_pair(name, &value)
                            .finish()
                    } else {
                        // Raw, but still a valid URI: only characters a
                        // request line may carry (percent signs included,
                        // valid escapes or not).
                        let raw: String = value
                            .chars()
                            .filter(|c| {
                                c.is_ascii_alphanumeric() || "-._~!$'()*+,;=:@/?%".contains(*c)
                            })
                            .collect();
                        format!("{name}={raw}")
                    }
                })
                .collect::<Vec<_>>()
                .join("&")
        })
}

/// A path segment: known names and hostile ones, percent-encoded.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("default".to_owned()),
        Just("dead".to_owned()),
        Just("ready".to_owned()),
        Just("minutes".to_owned()),
        hostile_text(),
    ]
    .prop_map(|s| {
        form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    })
}

fn path() -> impl Strategy<Value = String> {
    (0usize..16, segment(), segment(), query()).prop_map(|(shape, a, b, q)| {
        let base = match shape {
            0 => format!("/api/v1/queues/{a}/jobs/{b}"),
            1 => format!("/queues/{a}/jobs/{b}"),
            2 => format!("/api/v1/queues/{a}/groups"),
            3 => format!("/api/v1/history/{a}"),
            4 => format!("/api/v1/jobs/{a}"),
            5 => format!("/queues/{a}/job/{b}"),
            6 => format!("/api/v1/queues/{a}"),
            7 => "/api/v1/audit".to_owned(),
            8 => format!("/queues/{a}/history"),
            9 => format!("/api/v1/queues/{a}/history"),
            10 => format!("/api/v1/queues/{a}/watch"),
            11 => "/api/v1/scaling".to_owned(),
            12 => format!("/api/v1/queues/{a}/weights/{b}"),
            13 => format!("/api/v1/queues/{a}/keys/waits"),
            14 => format!("/queues/{a}/weights"),
            _ => format!("/{a}"),
        };
        if q.is_empty() {
            base
        } else {
            format!("{base}?{q}")
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_input_makes_a_page_or_endpoint_fail(path in path()) {
        let (runtime, dash, _) = fixture();
        let reply = runtime.block_on(dash.get(&path, As::Operator));
        prop_assert!(
            !reply.status.is_server_error(),
            "GET {} answered {}: {}", path, reply.status, reply.body
        );
        if reply.status.is_client_error() {
            prop_assert!(!reply.body.trim().is_empty(), "a 4xx says why: GET {}", path);
        }
    }

    #[test]
    fn hostile_forms_never_fail_and_change_nothing_without_the_token(
        path in path(),
        body in query(),
    ) {
        let (runtime, dash, env) = fixture();
        let before = runtime.block_on(env.client().admin().queue("default"))
            .map(|q| q.ready)
            .unwrap_or_default();
        let reply = runtime.block_on(dash.send(
            Method::POST,
            &path,
            As::Browser,
            &[("content-type", "application/x-www-form-urlencoded")],
            &body,
        ));
        prop_assert!(
            !reply.status.is_server_error(),
            "POST {} ({}) answered {}: {}", path, body, reply.status, reply.body
        );
        prop_assert!(
            !reply.status.is_success() && !reply.status.is_redirection(),
            "POST {} without a CSRF token was accepted: {}", path, reply.status
        );
        let after = runtime.block_on(env.client().admin().queue("default"))
            .map(|q| q.ready)
            .unwrap_or_default();
        prop_assert_eq!(before, after, "POST {} changed the queue", path);
    }
}
