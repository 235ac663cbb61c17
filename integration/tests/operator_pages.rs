//! The operator API's paging, filtering, grouping and bulk actions across
//! batch boundaries (more dead jobs than one batch and than the grouping
//! sample), and its history, audit log and server info.

use jobqueue_core::admin::{AUDIT_LOG_CAPACITY, AuditEntry, DEAD_GROUP_SAMPLE};
use jobqueue_core::{BrowseState, BulkAction, JobFilter, JobSet};
use jobqueue_integration::dashboard::make_dead_jobs;
use jobqueue_integration::test_redis;
use jobqueue_testing::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_bulk_actions_and_groups_span_many_batches() {
    let env = test_redis("op-pages").await;
    const N: usize = 2_600;
    let messages: Vec<String> = (0..N)
        .map(|i| {
            if i % 2 == 0 {
                format!("deadlock detected on row {i}")
            } else {
                format!("quota exceeded for tenant {i}")
            }
        })
        .collect();
    make_dead_jobs(&env, &messages, "").await;
    let admin = env.client().admin();

    // Grouping reads a bounded sample and scales it.
    let groups = admin.dead_groups("default").await.unwrap();
    assert_eq!(groups.total, N as u64);
    assert_eq!(groups.sampled, DEAD_GROUP_SAMPLE as u64);
    assert!(!groups.exact);
    assert_eq!(groups.groups.len(), 2);
    for group in &groups.groups {
        let diff = group.estimated_count.abs_diff(N as u64 / 2);
        assert!(
            diff < 200,
            "estimate {} too far from {}",
            group.estimated_count,
            N / 2
        );
    }

    // Newest-first pages by cursor cover the set exactly once.
    let mut cursor = Some(0);
    let mut seen = std::collections::HashSet::new();
    let mut last_at = None;
    while let Some(at) = cursor {
        let page = admin
            .browse("default", BrowseState::Dead, &JobFilter::all(), at, 700)
            .await
            .unwrap();
        for job in &page.jobs {
            assert!(seen.insert(job.id), "no job twice");
            if let (Some(prev), Some(now)) = (last_at, job.at) {
                assert!(now <= prev, "newest first");
            }
            last_at = job.at;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen.len(), N);

    // Retry every "deadlock" job: matches are spread over three batches.
    let filter = JobFilter {
        error_contains: Some("DEADLOCK".to_owned()),
        ..JobFilter::default()
    };
    let mut progress = Vec::new();
    let moved = admin
        .apply_matching(
            "default",
            JobSet::Dead,
            &filter,
            BulkAction::Retry,
            |seen, total| progress.push((seen, total)),
        )
        .await
        .unwrap();
    assert_eq!(moved, N as u64 / 2);
    assert!(progress.len() >= 3, "{progress:?}");
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.dead, info.ready), (N as u64 / 2, N as u64 / 2));
    let left = admin
        .browse("default", BrowseState::Dead, &filter, 0, 10)
        .await
        .unwrap();
    assert!(left.jobs.is_empty() && left.next_cursor.is_none());

    // Delete the other group by fingerprint.
    let fingerprint = admin.dead_groups("default").await.unwrap().groups[0]
        .fingerprint
        .clone();
    let by_group = JobFilter {
        fingerprint: Some(fingerprint),
        ..JobFilter::default()
    };
    let deleted = admin
        .apply_matching(
            "default",
            JobSet::Dead,
            &by_group,
            BulkAction::Delete,
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(deleted, N as u64 / 2);
    assert_eq!(admin.queue("default").await.unwrap().dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_audit_log_and_server_info() {
    let env = test_redis("op-history").await;
    let admin = env.client().admin();
    // Workers write processed counts; make one and read it back.
    make_dead_jobs(&env, &["x".to_owned()], "").await;
    let minutes = admin.minute_history(60).await.unwrap();
    assert_eq!(minutes.len(), 60);
    assert!(
        minutes.windows(2).all(|w| w[0].at < w[1].at),
        "oldest first"
    );
    let days = admin.day_history(30).await.unwrap();
    assert_eq!(days.len(), 30);
    assert!(
        eventually(std::time::Duration::from_secs(5), || async {
            admin.day_history(1).await.unwrap()[0].failed >= 1
        })
        .await,
        "today's failure is counted"
    );
    assert_eq!(
        admin.minute_history(100_000).await.unwrap().len(),
        120,
        "capped"
    );

    // The audit log is a capped stream; pages go back by entry id.
    let small = admin.clone().with_audit_capacity(300);
    for i in 0..1500u64 {
        small
            .record_audit(&AuditEntry::now("tester", "retry", "q", i + 1))
            .await
            .unwrap();
    }
    let newest = admin.audit_log(None, 2).await.unwrap();
    assert_eq!((newest[0].count, newest[1].count), (1500, 1499));
    let older = admin.audit_log(newest[1].id.as_deref(), 2).await.unwrap();
    assert_eq!((older[0].count, older[1].count), (1498, 1497));
    let all = admin.audit_log(None, 5000).await.unwrap();
    let len: usize = redis::cmd("XLEN")
        .arg(env.client().store().keys().audit_log())
        .query_async(&mut env.connection().await.unwrap())
        .await
        .unwrap();
    // `MAXLEN ~` trims whole stream nodes (100 entries by default).
    assert!((300..=400).contains(&len), "the log is bounded: {len}");
    assert_eq!(all.len(), len, "one page holds it all");
    assert_eq!(AUDIT_LOG_CAPACITY, 10_000, "the documented default");
    assert!(
        admin.audit_log(Some("not-an-id"), 10).await.is_err(),
        "a bad cursor is refused"
    );

    // The server's own version and name, Redis or Valkey (whose
    // `redis_version` is the Redis it is compatible with, not its own).
    let info = admin.server_info().await.unwrap();
    let mut conn = env.connection().await.unwrap();
    let raw: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .unwrap();
    let field = |name: &str| {
        raw.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    match field("valkey_version") {
        Some(valkey) => assert_eq!(
            (info.server.as_str(), info.version.as_str()),
            ("Valkey", valkey)
        ),
        None => assert_eq!(
            (info.server.as_str(), Some(info.version.as_str())),
            ("Redis", field("redis_version"))
        ),
    }
    assert!(info.used_memory > 0);
}
