//! Tags and search (issue 16, point 1): tags validated before anything is
//! sent, indexed in the enqueue script whatever the job's destination,
//! found by tag (index, cursor pages), by id, id prefix, type and payload
//! field (bounded scan with a budget and a cursor), bulk actions on a
//! search page, the index's bounds, and searches while several worker
//! processes end the jobs.

use std::collections::HashSet;
use std::time::Duration;

use jobqueue_core::admin::{SearchAction, SearchPage, SearchQuery};
use jobqueue_core::{ErrorKind, JobState};
use jobqueue_integration::jobs::{FailingJob, TestJob};
use jobqueue_integration::worker_process::WorkerSpec;
use jobqueue_integration::{TestJobTraces, WorkerProcess, test_redis, test_worker};
use jobqueue_testing::{DrainOptions, TestRedis};
use redis::AsyncCommands;
use uuid::Uuid;

const WORKER: &str = env!("CARGO_BIN_EXE_test_worker");

/// What one `HSCAN` step may return beyond its `COUNT` (a hint to Redis:
/// it returns whole hash buckets), which a page's budget can exceed by.
const HSCAN_SLACK: u64 = 16;

/// Every hit of a search, page after page (limit 7 to make several pages).
async fn search_all(env: &TestRedis, query: &SearchQuery, budget: usize) -> Vec<SearchPage> {
    let admin = env.client().admin();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = admin
            .search("default", query, cursor.as_deref(), 7, budget)
            .await
            .unwrap();
        cursor = page.next_cursor.clone();
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() < 10_000, "a search always ends");
    }
}

fn hit_ids(pages: &[SearchPage]) -> Vec<Uuid> {
    pages
        .iter()
        .flat_map(|p| p.hits.iter().map(|h| h.id))
        .collect()
}

fn tag_key(env: &TestRedis, tag: &str) -> String {
    format!("{}:{{default}}:tag:{tag}", env.prefix())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tags_are_refused_before_anything_is_sent() {
    let env = test_redis("tags-invalid").await;
    let client = env.client();
    let too_many: Vec<String> = (0..9).map(|n| format!("t{n}")).collect();
    for tags in [
        vec![String::new()],
        vec!["x".repeat(65)],
        vec!["a\u{7}b".to_owned()],
        too_many,
    ] {
        let err = client
            .job(env.test_job())
            .tags(tags.clone())
            .enqueue()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{tags:?}: {err}");
    }
    let bulk = client
        .enqueue_prepared([client.job(env.test_job()).tags(["ok"]).prepare().unwrap()])
        .await;
    assert!(
        bulk.is_ok(),
        "a valid tag goes through the bulk path: {bulk:?}"
    );
    let info = client.admin().queue("default").await.unwrap();
    assert_eq!(info.ready, 1, "only the valid job was sent");
}

/// A tagged job enqueued under an idempotency key (single or bulk) is
/// indexed by the idempotent enqueue script in the step that creates it;
/// a repeat answered with the original job indexes nothing new. (Before,
/// the client refused the combination.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_jobs_with_an_idempotency_key_are_indexed_once() {
    let env = test_redis("tags-idempotent").await;
    let client = env.client();
    let day = Duration::from_secs(86_400);
    let tag = "order:42";
    let first = client
        .job(env.test_job())
        .tags([tag])
        .idempotency_key("order-42", day)
        .enqueue()
        .await
        .unwrap();
    let again = client
        .job(env.test_job())
        .tags([tag])
        .idempotency_key("order-42", day)
        .enqueue()
        .await
        .unwrap();
    assert_eq!(again, first, "the repeat answers with the original job");
    let bulk = client
        .enqueue_prepared([client
            .job(env.test_job())
            .tags([tag])
            .idempotency_key("order-43", day)
            .prepare()
            .unwrap()])
        .await
        .unwrap();
    let query = SearchQuery::tag(tag).unwrap();
    let found: Vec<Uuid> = search_all(&env, &query, 100)
        .await
        .into_iter()
        .flat_map(|page| page.hits.into_iter().map(|hit| hit.id))
        .collect();
    let mut expected = vec![first, bulk[0]];
    expected.sort();
    let mut got = found.clone();
    got.sort();
    assert_eq!(got, expected, "each job indexed once: {found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_jobs_are_found_by_tag_wherever_they_are() {
    let env = test_redis("tags-places").await;
    let client = env.client();
    let tag = "customer:4711";
    let hostile = "<script>alert('x')</script>&\"";
    let plain = client
        .job(env.test_job())
        .tags([tag, hostile])
        .enqueue()
        .await
        .unwrap();
    let prioritised = client
        .job(env.test_job())
        .priority(5)
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let scheduled = client
        .job(env.test_job())
        .delay(Duration::from_secs(3600))
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let keyed = client
        .job(env.test_job())
        .flow_key("account:1")
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let given = Uuid::now_v7();
    client
        .job(env.test_job())
        .id(given)
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let unique = client
        .job(env.test_job())
        .unique_for(Duration::from_secs(60))
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let parent = client
        .job(env.test_job())
        .with_dependents()
        .delay(Duration::from_secs(3600))
        .enqueue()
        .await
        .unwrap();
    let child = client
        .job(env.test_job())
        .after((String::from("default"), parent))
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let untagged = client.enqueue(env.test_job()).await.unwrap();

    let query = SearchQuery::tag(tag).unwrap();
    let pages = search_all(&env, &query, 100).await;
    let found: HashSet<Uuid> = hit_ids(&pages).into_iter().collect();
    let expected: HashSet<Uuid> = [plain, prioritised, scheduled, keyed, given, unique, child]
        .into_iter()
        .collect();
    assert_eq!(found, expected);
    assert!(!found.contains(&untagged));
    assert_eq!(pages[0].total, 7);
    assert!(pages.iter().all(|p| p.indexed));
    let ids = hit_ids(&pages);
    let mut newest_first = ids.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first, "newest first, no repeats");
    let state_of = |id: Uuid| {
        pages
            .iter()
            .flat_map(|p| &p.hits)
            .find(|h| h.id == id)
            .and_then(|h| h.job.as_ref().map(|j| j.state))
    };
    assert_eq!(state_of(scheduled), Some(JobState::Scheduled));
    assert_eq!(state_of(keyed), Some(JobState::Ready));
    assert_eq!(
        state_of(child),
        Some(JobState::Waiting),
        "a job with parents is indexed too"
    );
    assert_eq!(
        state_of(plain),
        None,
        "a plain ready job is in no place filed by id"
    );
    let hostile_hits = client
        .admin()
        .search("default", &SearchQuery::tag(hostile).unwrap(), None, 10, 10)
        .await
        .unwrap();
    assert_eq!(hit_ids(&[hostile_hits]), vec![plain]);
    let job = client
        .admin()
        .job("default", scheduled)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        job.tags,
        vec![tag.to_owned()],
        "the job's view shows its tags"
    );

    // The index is bounded: every write trims entries older than 7 days
    // and keeps the key's TTL.
    let mut conn = env.connection().await.unwrap();
    let ttl: i64 = conn.pttl(tag_key(&env, tag)).await.unwrap();
    assert!(ttl > 6 * 24 * 3600 * 1000, "{ttl}");
    let old_id = "00000001-0000-7000-8000-000000000000";
    let _: () = conn.zadd(tag_key(&env, tag), old_id, 0).await.unwrap();
    // One write in 16 trims: the one whose job id ends with the hex digit 0.
    let id_ending_with = |digit: u8| {
        let mut bytes = *Uuid::now_v7().as_bytes();
        bytes[15] = (bytes[15] & 0xf0) | digit;
        Uuid::from_bytes(bytes)
    };
    client
        .job(env.test_job())
        .id(id_ending_with(1))
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let old: Option<f64> = conn.zscore(tag_key(&env, tag), old_id).await.unwrap();
    assert!(
        old.is_some(),
        "a write whose id does not end with 0 does not trim"
    );
    client
        .job(env.test_job())
        .id(id_ending_with(0))
        .tags([tag])
        .enqueue()
        .await
        .unwrap();
    let old: Option<f64> = conn.zscore(tag_key(&env, tag), old_id).await.unwrap();
    assert_eq!(
        old, None,
        "an entry older than the retention was trimmed by a trimming write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_by_type_field_and_id_respect_their_budget_and_continue() {
    let env = test_redis("tags-scan").await;
    let client = env.client();
    let mut wanted = Vec::new();
    for n in 0..240u32 {
        let mut job = env.test_job();
        job.fail_times = n % 4;
        let builder = client.job(job);
        // Spread the jobs over the ready list, the priority set and the jobs hash.
        let id = match n % 3 {
            0 => builder.enqueue().await.unwrap(),
            1 => builder.priority(1).enqueue().await.unwrap(),
            _ => builder
                .delay(Duration::from_secs(3600))
                .enqueue()
                .await
                .unwrap(),
        };
        if n % 4 == 3 {
            wanted.push(id);
        }
    }
    let query = SearchQuery::field("args.fail_times = 3").unwrap();
    let pages = search_all(&env, &query, 50).await;
    assert!(
        pages
            .iter()
            .all(|p| p.scanned <= 50 + HSCAN_SLACK && !p.indexed),
        "each page within its budget: {:?}",
        pages.iter().map(|p| p.scanned).collect::<Vec<_>>()
    );
    assert_eq!(
        pages[0].total, 240,
        "scanned N of M: M counts every stored job"
    );
    assert_eq!(
        pages.iter().map(|p| p.scanned).sum::<u64>(),
        240,
        "the pages together scan each job once"
    );
    let found: HashSet<Uuid> = hit_ids(&pages).into_iter().collect();
    assert_eq!(found, wanted.iter().copied().collect::<HashSet<_>>());

    let by_type = search_all(&env, &SearchQuery::job_type("test_job").unwrap(), 1000).await;
    assert_eq!(hit_ids(&by_type).len(), 240);
    assert!(
        search_all(&env, &SearchQuery::job_type("other").unwrap(), 1000)
            .await
            .iter()
            .all(|p| p.hits.is_empty())
    );

    let target = wanted[5];
    let text = target.to_string();
    let by_prefix = search_all(&env, &SearchQuery::id(&text[..30]).unwrap(), 1000).await;
    assert_eq!(hit_ids(&by_prefix), vec![target]);
    let exact = client
        .admin()
        .search("default", &SearchQuery::id(&text).unwrap(), None, 10, 10)
        .await
        .unwrap();
    assert_eq!(hit_ids(&[exact]), vec![target]);

    let bad = client
        .admin()
        .search("default", &query, Some("zzz"), 10, 10)
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_apply_to_a_search_page() {
    let env = test_redis("tags-bulk").await;
    let client = env.client();
    let admin = client.admin();
    let mut dead = Vec::new();
    for _ in 0..4 {
        let mut job = env.test_job();
        job.permanent = true;
        dead.push(
            client
                .job(job)
                .tags(["batch:dead"])
                .enqueue()
                .await
                .unwrap(),
        );
    }
    env.drain_with(test_worker(&env), DrainOptions::new().queues(["default"]))
        .await
        .unwrap();
    assert_eq!(admin.queue("default").await.unwrap().dead, 4);
    for _ in 0..3 {
        client
            .job(env.test_job())
            .delay(Duration::from_secs(600))
            .tags(["batch:later"])
            .enqueue()
            .await
            .unwrap();
    }
    for _ in 0..5 {
        client
            .job(env.test_job())
            .tags(["batch:now"])
            .enqueue()
            .await
            .unwrap();
    }

    let dead_query = SearchQuery::tag("batch:dead").unwrap();
    let report = admin
        .act_on_search("default", &dead_query, None, SearchAction::Retry, 2, 100)
        .await
        .unwrap();
    assert_eq!((report.found, report.changed), (2, 2), "one page of two");
    let cursor = report.next_cursor.clone();
    let report = admin
        .act_on_search(
            "default",
            &dead_query,
            cursor.as_deref(),
            SearchAction::Retry,
            2,
            100,
        )
        .await
        .unwrap();
    assert_eq!(report.changed, 2);
    let info = admin.queue("default").await.unwrap();
    assert_eq!(info.dead, 0, "every dead tagged job retried");

    let later = SearchQuery::tag("batch:later").unwrap();
    let report = admin
        .act_on_search("default", &later, None, SearchAction::Delete, 50, 100)
        .await
        .unwrap();
    assert_eq!(report.changed, 3);
    assert_eq!(admin.queue("default").await.unwrap().scheduled, 0);

    let now = SearchQuery::tag("batch:now").unwrap();
    let report = admin
        .act_on_search("default", &now, None, SearchAction::Cancel, 50, 100)
        .await
        .unwrap();
    assert_eq!(
        (report.found, report.changed),
        (5, 5),
        "plain ready jobs (tag hits filed nowhere by id) are found in the ready list"
    );
    // The four retried ones are ready now; the five cancelled are skipped.
    let by_type = SearchQuery::job_type("test_job").unwrap();
    let report = admin
        .act_on_search("default", &by_type, None, SearchAction::Cancel, 50, 10_000)
        .await
        .unwrap();
    assert_eq!((report.found, report.changed), (9, 4), "{report:?}");
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.ready, info.cancelled), (0, 9));
    let again = admin
        .act_on_search("default", &now, None, SearchAction::Cancel, 50, 100)
        .await
        .unwrap();
    assert_eq!(again.changed, 0, "cancelled jobs are not cancelled twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_stay_correct_while_worker_processes_end_the_jobs() {
    let env = test_redis("tags-processes").await;
    let client = env.client();
    let mut ids = HashSet::new();
    for n in 0..300u64 {
        let mut job = env.test_job();
        job.sleep_ms = 40 + n % 10;
        let builder = client.job(job).tags(["import:2026-11"]);
        let builder = if n % 2 == 0 {
            builder.priority(1)
        } else {
            builder
        };
        ids.insert(builder.enqueue().await.unwrap());
    }
    let spec = WorkerSpec::new(env.url(), env.prefix());
    let workers = [
        WorkerProcess::start(WORKER, &spec),
        WorkerProcess::start(WORKER, &spec),
    ];
    let query = SearchQuery::tag("import:2026-11").unwrap();
    let field = SearchQuery::field("args.sleep_ms = 47").unwrap();
    let mut rounds = 0;
    while env.done().await.len() < 300 {
        let pages = search_all(&env, &query, 100).await;
        let found = hit_ids(&pages);
        assert_eq!(
            found.len(),
            300,
            "every tagged job is in the index, ended or not"
        );
        assert!(found.iter().all(|id| ids.contains(id)));
        for page in search_all(&env, &field, 40).await {
            assert!(page.scanned <= 40 + HSCAN_SLACK);
            assert!(page.hits.iter().all(|h| ids.contains(&h.id)));
        }
        rounds += 1;
        assert!(rounds < 2000, "the workers finish");
    }
    assert!(
        rounds >= 2,
        "searched while the jobs were running ({rounds} rounds)"
    );
    let pages = search_all(&env, &query, 100).await;
    assert!(
        pages.iter().flat_map(|p| &p.hits).all(|h| h.job.is_none()),
        "ended jobs show as not found"
    );
    assert_eq!(env.done().await.len(), 300);
    for worker in workers {
        worker.terminate();
        assert!(worker.wait(Duration::from_secs(10)));
    }
}

/// A job of a batch that snoozes ten minutes on its first run: after one
/// drain it waits in the retry set.
fn snoozing(env: &TestRedis) -> TestJob {
    TestJob {
        snooze_ms: Some(600_000),
        ..env.test_job()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_search_finds_exactly_the_waiting_jobs_of_the_batch() {
    let env = test_redis("search-batch").await;
    let client = env.client();
    let admin = client.admin();
    let batch = client.batch().create().await.unwrap();
    let retrying = batch
        .add([snoozing(&env), snoozing(&env), snoozing(&env)])
        .await
        .unwrap();
    env.drain_with(test_worker(&env), DrainOptions::new().queues(["default"]))
        .await
        .unwrap();
    assert_eq!(admin.queue("default").await.unwrap().retry, 3);
    let ready = batch.add((0..4).map(|_| env.test_job())).await.unwrap();
    batch.seal().await.unwrap();
    // Jobs that must not match: another batch's, plain ones (ready,
    // scheduled, prioritised) and one carrying the batch id in its payload.
    let other = client.batch().create().await.unwrap();
    let others = other.add([env.test_job(), env.test_job()]).await.unwrap();
    other.seal().await.unwrap();
    client.enqueue(env.test_job()).await.unwrap();
    client
        .job(env.test_job())
        .priority(1)
        .enqueue()
        .await
        .unwrap();
    client
        .job(FailingJob {
            message: "never runs".to_owned(),
            note: batch.id().to_string(),
        })
        .delay(Duration::from_secs(600))
        .enqueue()
        .await
        .unwrap();

    let query = SearchQuery::batch(&batch.id().to_string().to_uppercase()).unwrap();
    let pages = search_all(&env, &query, 3).await;
    assert!(pages.len() > 3, "a small budget makes several pages");
    assert!(
        pages
            .iter()
            .all(|p| !p.indexed && p.scanned <= 3 + HSCAN_SLACK)
    );
    assert_eq!(pages[0].total, 12, "scanned N of M counts every stored job");
    let hits: Vec<_> = pages.iter().flat_map(|p| p.hits.iter()).collect();
    let found: HashSet<Uuid> = hits.iter().map(|h| h.id).collect();
    let wanted: HashSet<Uuid> = retrying.iter().chain(&ready).copied().collect();
    assert_eq!(found, wanted);
    assert_eq!(hits.len(), 7, "each job found once");
    for hit in &hits {
        let job = hit.job.as_ref().unwrap();
        let expected = if retrying.contains(&hit.id) {
            JobState::Retry
        } else {
            JobState::Ready
        };
        assert_eq!(job.state, expected, "{}", hit.id);
        assert_eq!(job.batch, Some(batch.id()));
    }
    let one_page = admin
        .search("default", &query, None, 50, 10_000)
        .await
        .unwrap();
    assert_eq!(one_page.hits.len(), 7);
    assert_eq!(one_page.next_cursor, None);

    // Bulk actions on a batch search act on that batch's jobs only, and
    // the batch counts them.
    let other_query = SearchQuery::batch(&other.id().to_string()).unwrap();
    let report = admin
        .act_on_search(
            "default",
            &other_query,
            None,
            SearchAction::Cancel,
            50,
            10_000,
        )
        .await
        .unwrap();
    assert_eq!((report.found, report.changed), (2, 2), "{report:?}");
    let other_info = admin.batch("default", other.id()).await.unwrap();
    assert_eq!((other_info.pending, other_info.cancelled), (0, 2));
    let report = admin
        .act_on_search("default", &query, None, SearchAction::Retry, 50, 10_000)
        .await
        .unwrap();
    assert_eq!(
        (report.found, report.changed),
        (7, 3),
        "the retrying ones run now"
    );
    let info = admin.queue("default").await.unwrap();
    assert_eq!((info.retry, info.scheduled), (0, 1));
    let after = search_all(&env, &query, 10_000).await;
    assert_eq!(hit_ids(&after).into_iter().collect::<HashSet<_>>(), wanted);
    let cancelled = search_all(&env, &other_query, 10_000).await;
    let cancelled: Vec<_> = cancelled.iter().flat_map(|p| p.hits.iter()).collect();
    assert_eq!(
        cancelled.iter().map(|h| h.id).collect::<HashSet<_>>(),
        others.iter().copied().collect::<HashSet<_>>()
    );
    assert!(
        cancelled.iter().all(|h| h
            .job
            .as_ref()
            .is_some_and(|j| j.state == JobState::Cancelled)),
        "kept cancelled jobs are found where they are: {cancelled:?}"
    );

    for bad in ["", "not-a-uuid", &batch.id().to_string()[..30]] {
        let err = SearchQuery::batch(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
}
