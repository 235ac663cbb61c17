//! Property tests of the decoders that read job records from Redis
//! (`jobqueue_core::wire::record`), run in every test run; `fuzz/` fuzzes the same
//! decoders for longer (scripts/chaos). Pure: no Redis needed.
//!
//! * Every envelope and payload survives encode → decode unchanged.
//! * The id sits where the Lua scripts read it (bytes 8-43), and the
//!   attempt counter right after the type, where `bump_attempt` looks.
//! * Any bytes at all give an error or a value, never a panic — from the
//!   worker's decoders and from the operator API's view of a record.

use jobqueue_core::wire::record::{
    Envelope, ErrorEntry, FailureKind, decode_head, decode_record, encode_record, record_flow_key,
    record_id, record_id_bytes, split_record,
};
use jobqueue_core::{BackoffPolicy, JobInfo, JobState, OnParentFailure, ParentRef};
use proptest::prelude::*;
use uuid::Uuid;

fn failure_kind() -> impl Strategy<Value = FailureKind> {
    prop_oneof![
        Just(FailureKind::Error),
        Just(FailureKind::Panic),
        Just(FailureKind::Timeout),
        Just(FailureKind::Lost),
        Just(FailureKind::Payload),
        Just(FailureKind::UnknownType),
        Just(FailureKind::Malformed),
        Just(FailureKind::Exhausted),
    ]
}

fn backoff() -> impl Strategy<Value = BackoffPolicy> {
    prop_oneof![
        (any::<u64>(), 1.0..10.0f64, any::<u64>(), 0.0..=1.0f64).prop_map(
            |(base_ms, factor, max_ms, jitter)| BackoffPolicy::Exponential {
                base_ms,
                factor,
                max_ms,
                jitter
            }
        ),
        (any::<u64>(), 0.0..=1.0f64)
            .prop_map(|(delay_ms, jitter)| BackoffPolicy::Fixed { delay_ms, jitter }),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    let ids = (0u64..(1 << 48), any::<[u8; 10]>()).prop_map(|(ms, random)| {
        uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
    });
    let errors = proptest::collection::vec(
        (any::<u32>(), any::<i64>(), failure_kind(), ".{0,60}")
            .prop_map(|(attempt, at, kind, message)| ErrorEntry::new(attempt, at, kind, &message)),
        0..4,
    );
    let head = (
        ids,
        "[a-z][a-z0-9_.:-]{0,30}",
        any::<u32>(),
        any::<Option<u32>>(),
        any::<i16>(),
        any::<Option<u64>>(),
    );
    let tail = (
        proptest::option::of(backoff()),
        any::<Option<i64>>(),
        any::<u32>(),
        proptest::option::of(".{0,60}"),
        errors,
    );
    let flow = (
        proptest::option::of(".{0,40}"),
        proptest::option::of("[0-9a-f]{0,40}"),
        any::<Option<i64>>(),
        any::<bool>(),
        proptest::option::of("[a-z]{1,8}:[a-z0-9]{0,12}"),
    );
    let parent = (any::<u128>(), "[a-z0-9_.:-]{1,20}").prop_map(|(id, queue)| ParentRef {
        id: Uuid::from_u128(id),
        queue,
    });
    let policy = proptest::option::of(prop_oneof![
        Just(OnParentFailure::DeadLetter),
        Just(OnParentFailure::Run),
        Just(OnParentFailure::Wait),
        Just(OnParentFailure::Skip),
    ]);
    let chain = (
        any::<bool>(),
        proptest::collection::vec(parent, 0..4),
        policy,
        any::<Option<u128>>(),
        // Tags: any text, hostile characters included (quotes, brackets,
        // backslashes, newlines) — the envelope must carry them as JSON.
        proptest::collection::vec(".{0,20}", 0..4),
    );
    (head, tail, flow, chain).prop_map(
        |(
            (id, job_type, attempt, max_attempts, priority, timeout_ms),
            (backoff, run_at, version, traceparent, errors),
            (cron, unique, expires_at, track, flow_key),
            (dependents, after, on_parent_failure, batch, tags),
        )| Envelope {
            id,
            job_type,
            attempt,
            max_attempts,
            priority,
            timeout_ms,
            backoff,
            run_at,
            version,
            traceparent,
            errors,
            cron,
            unique,
            expires_at,
            track,
            dependents,
            after,
            on_parent_failure,
            flow: flow_key,
            workflow: None,
            batch: batch.map(Uuid::from_u128),
            tags,
            enc: None,
            digest: None,
        },
    )
}

proptest! {
    /// What a scanning search does with every stored record it reads: any
    /// query text, any bytes — an error or a verdict, never a panic; and a
    /// job's own tags, type and id find it (the fuzz target `search_match`
    /// goes further).
    #[test]
    fn searches_match_any_record_without_panicking(
        text in ".{0,80}",
        bytes in any::<Vec<u8>>(),
        envelope in envelope(),
    ) {
        use jobqueue_core::admin::SearchQuery;
        for query in [
            SearchQuery::tag(&text),
            SearchQuery::id(&text),
            SearchQuery::job_type(&text),
            SearchQuery::field(&text),
        ]
        .into_iter()
        .flatten()
        {
            let _ = query.matches_record(&bytes);
        }
        let record = encode_record(&envelope, b"{}").unwrap();
        for tag in envelope.tags.iter().filter(|t| SearchQuery::tag(t).is_ok()) {
            prop_assert!(SearchQuery::tag(tag).unwrap().matches_record(&record));
        }
        let id = envelope.id.to_string();
        prop_assert!(SearchQuery::id(&id[..9]).unwrap().matches_record(&record));
        if let Ok(query) = SearchQuery::job_type(&envelope.job_type)
            && envelope.job_type.trim() == envelope.job_type
        {
            prop_assert!(query.matches_record(&record));
        }
    }

    #[test]
    fn every_record_survives_a_round_trip(envelope in envelope(), payload in any::<Vec<u8>>()) {
        let record = encode_record(&envelope, &payload).unwrap();
        let (decoded, decoded_payload) = decode_record(&record).unwrap();
        prop_assert_eq!(&decoded, &envelope);
        prop_assert_eq!(decoded_payload, payload.as_slice());

        let (head, head_payload) = decode_head(&record).unwrap();
        prop_assert_eq!(head.id, envelope.id);
        prop_assert_eq!(head.job_type.as_ref(), envelope.job_type.as_str());
        prop_assert_eq!(head.attempt, envelope.attempt);
        prop_assert_eq!(head.max_attempts, envelope.max_attempts);
        prop_assert_eq!(head.timeout_ms, envelope.timeout_ms);
        prop_assert_eq!(head.version, envelope.version);
        prop_assert_eq!(head.traceparent.as_deref(), envelope.traceparent.as_deref());
        prop_assert_eq!(head.flow.as_deref(), envelope.flow.as_deref());
        // include/flow.lua's record_flow and the worker's byte search agree with serde.
        prop_assert_eq!(record_flow_key(&record), envelope.flow.as_deref());
        prop_assert_eq!(head_payload, payload.as_slice());
    }

    #[test]
    fn the_scripts_find_the_id_and_attempt_where_they_look(envelope in envelope()) {
        let record = encode_record(&envelope, b"{}").unwrap();
        // include/lib.lua: record_id = string.sub(record, 8, 43).
        prop_assert_eq!(record_id(&record), Some(envelope.id));
        let id_text = envelope.id.to_string();
        prop_assert_eq!(record_id_bytes(&record), Some(id_text.as_bytes()));
        // include/lib.lua: bump_attempt expects `,"attempt":N` right after the type.
        let text = String::from_utf8(record).unwrap();
        let after_type = format!(",\"type\":\"{}\"", envelope.job_type);
        let rest = &text[43 + 1..];
        prop_assert!(rest.starts_with(&after_type), "{}", text);
        if envelope.attempt > 0 {
            let expected = format!(",\"attempt\":{}", envelope.attempt);
            prop_assert!(rest[after_type.len()..].starts_with(&expected), "{}", text);
        }
        // One raw newline: the one between envelope and payload.
        prop_assert_eq!(text.matches('\n').count(), 1);
    }

    #[test]
    fn any_bytes_decode_to_an_error_or_a_value_never_a_panic(bytes in any::<Vec<u8>>()) {
        let _ = record_id(&bytes);
        let _ = split_record(&bytes);
        let _ = decode_head(&bytes);
        if let Ok((envelope, payload)) = decode_record(&bytes) {
            let again = encode_record(&envelope, payload).unwrap();
            prop_assert_eq!(decode_record(&again).unwrap().0, envelope);
        }
        let info = JobInfo::from_record("q", JobState::Dead, &bytes, None);
        prop_assert_eq!(info.queue.as_str(), "q");
    }

    #[test]
    fn bytes_that_almost_look_like_a_record_never_panic(
        id in "[0-9a-f-]{30,40}",
        middle in ".{0,80}",
        payload in any::<Vec<u8>>(),
    ) {
        let mut record = format!("{{\"id\":\"{id}\"{middle}\n").into_bytes();
        record.extend_from_slice(&payload);
        let _ = decode_head(&record);
        let _ = decode_record(&record);
        let _ = JobInfo::from_record("q", JobState::Ready, &record, Some(0));
    }
}

#[test]
fn a_nil_id_is_read_but_not_mistaken_for_a_job() {
    let mut envelope = Envelope::new("t");
    envelope.id = Uuid::nil();
    let record = encode_record(&envelope, b"{}").unwrap();
    assert_eq!(record_id(&record), Some(Uuid::nil()));
}

/// Found by `every_record_survives_a_round_trip`: serde_json's default
/// float parser may come back one ULP off, so a retry policy's jitter
/// drifted each time a failed job's record was re-encoded. The workspace
/// enables serde_json's `float_roundtrip`.
#[test]
fn a_backoff_jitter_survives_re_encoding_to_the_bit() {
    let mut envelope = Envelope::new("a");
    envelope.backoff = Some(BackoffPolicy::Exponential {
        base_ms: 0,
        factor: 1.0,
        max_ms: 0,
        jitter: 0.984_682_214_269_131_7,
    });
    let record = encode_record(&envelope, b"{}").unwrap();
    assert_eq!(decode_record(&record).unwrap().0, envelope);
}
