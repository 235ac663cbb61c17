//! Search at scale: N tagged jobs (two tags each, half ready, half
//! scheduled) on a private Redis; the latency of a tag page (O(page),
//! whatever N), of a scanning field search page (bounded by its budget)
//! and of a whole field scan, and the memory one tag index entry takes.
//! Figures for docs/benchmarks.md.
//!
//! Size: `JQ_CHAOS_SEARCH_SCALE_JOBS` (CI 20,000; the docs quote 1,000,000).

use std::time::{Duration, Instant};

use jobqueue_core::admin::SearchQuery;
use jobqueue_integration::chaos::memory::used_memory;
use jobqueue_integration::chaos::{Figures, param};
use jobqueue_integration::jobs::NoopJob;
use jobqueue_integration::{RedisServer, test_redis_on};
use jobqueue_testing::TestRedis;

/// Jobs per bulk enqueue.
const CHUNK: u64 = 10_000;

/// Page size of the measured searches.
const PAGE: usize = 50;

/// Stored jobs one page of the field search reads.
const BUDGET: usize = 10_000;

async fn enqueue_tagged(env: &TestRedis, jobs: u64, customers: u64) {
    let client = env.client();
    for start in (0..jobs).step_by(CHUNK as usize) {
        let prepared = (start..(start + CHUNK).min(jobs))
            .map(|n| {
                let builder = client.job(NoopJob { n }).tags([
                    format!("customer:{}", n % customers),
                    format!("import:{}", n % 10),
                ]);
                let builder = if n % 2 == 0 {
                    builder.delay(Duration::from_secs(3600))
                } else {
                    builder
                };
                builder.prepare().unwrap()
            })
            .collect::<Vec<_>>();
        client.enqueue_prepared(prepared).await.unwrap();
    }
}

/// The median of `runs` timings of `f`, ms.
async fn median_ms<F, Fut>(runs: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

async fn memory_usage(env: &TestRedis, key: &str) -> u64 {
    let mut conn = env.connection().await.unwrap();
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_pages_stay_fast_and_field_scans_stay_bounded_at_scale() {
    let jobs = param("search_scale_jobs", 20_000);
    let customers = (jobs / 100).max(1);
    let server = RedisServer::start();
    let env = test_redis_on(&server.url(), "search-scale").await;
    let admin = env.client().admin();

    let before = used_memory(&env).await;
    let started = Instant::now();
    enqueue_tagged(&env, jobs, customers).await;
    let enqueue_s = started.elapsed().as_secs_f64();
    let stored_bytes = used_memory(&env).await - before;

    // A tag of 100 jobs and one of N/10 (capped at 100,000 per tag).
    let small = SearchQuery::tag("customer:7").unwrap();
    let large = SearchQuery::tag("import:3").unwrap();
    let first = admin
        .search("default", &large, None, PAGE, BUDGET)
        .await
        .unwrap();
    assert_eq!(first.hits.len(), PAGE);
    assert_eq!(first.total, (jobs / 10).min(100_000));
    let small_page_ms = median_ms(21, || async {
        let page = admin
            .search("default", &small, None, PAGE, BUDGET)
            .await
            .unwrap();
        assert_eq!(page.hits.len(), PAGE.min(100));
    })
    .await;
    let large_page_ms = median_ms(21, || async {
        let page = admin
            .search("default", &large, None, PAGE, BUDGET)
            .await
            .unwrap();
        assert_eq!(page.hits.len(), PAGE);
    })
    .await;
    let deep_cursor = first.next_cursor.clone();
    let deep_page_ms = median_ms(21, || async {
        let page = admin
            .search("default", &large, deep_cursor.as_deref(), PAGE, BUDGET)
            .await
            .unwrap();
        assert_eq!(page.hits.len(), PAGE);
    })
    .await;

    // One field value held by exactly one job: a whole scan, page by page.
    let field = SearchQuery::field(&format!("args.n = {}", jobs / 2 + 1)).unwrap();
    let mut page_ms = Vec::new();
    let mut cursor: Option<String> = None;
    let (mut hits, mut scanned) = (0, 0);
    let scan_started = Instant::now();
    loop {
        let started = Instant::now();
        let page = admin
            .search("default", &field, cursor.as_deref(), PAGE, BUDGET)
            .await
            .unwrap();
        page_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        // HSCAN's COUNT is a hint: a step may return a few more.
        assert!(page.scanned <= BUDGET as u64 + 16, "{}", page.scanned);
        assert_eq!(page.total, jobs);
        hits += page.hits.len();
        scanned += page.scanned;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let scan_s = scan_started.elapsed().as_secs_f64();
    assert_eq!(hits, 1, "the one job holding the value");
    assert_eq!(scanned, jobs, "every stored job scanned once");
    page_ms.sort_by(f64::total_cmp);
    let field_page_ms = page_ms[page_ms.len() / 2];

    let prefix = env.prefix().to_owned();
    let large_key = format!("{prefix}:{{default}}:tag:import:3");
    let small_key = format!("{prefix}:{{default}}:tag:customer:7");
    let large_entry_bytes = memory_usage(&env, &large_key).await as f64 / first.total as f64;
    let small_entry_bytes = memory_usage(&env, &small_key).await as f64 / 100f64.min(jobs as f64);

    Figures::new("search_scale")
        .set("jobs", jobs)
        .set("tags_per_job", 2)
        .set("enqueue_s", enqueue_s)
        .set(
            "bytes_per_job_with_2_tags",
            stored_bytes as f64 / jobs as f64,
        )
        .set("tag_page_ms_tag_of_100", small_page_ms)
        .set("tag_page_ms_tag_of_100k", large_page_ms)
        .set("tag_page_ms_second_page", deep_page_ms)
        .set("field_page_ms_median", field_page_ms)
        .set("field_page_budget", BUDGET as u64)
        .set("field_full_scan_s", scan_s)
        .set("field_pages", page_ms.len() as u64)
        .set("tag_entry_bytes_large_tag", large_entry_bytes)
        .set("tag_entry_bytes_small_tag", small_entry_bytes)
        .publish();
}
