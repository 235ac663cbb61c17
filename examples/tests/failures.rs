//! The failures example, end to end against the test Redis.

#[path = "../failures.rs"]
#[allow(dead_code)]
mod failures;

use failures::{ChargeCard, ImportCsv};
use jobqueue::testing::{DrainOptions, InlineOutcome, TestRedis};

// One test per binary: "deploying the fix" flips a process-wide flag.
#[tokio::test]
async fn flaky_jobs_retry_poison_jobs_die_and_dead_jobs_can_be_retried()
-> Result<(), Box<dyn std::error::Error>> {
    // Inline first, before the fix: every attempt is visible in the report.
    let t = TestRedis::named("failures-inline").await?;
    t.client().enqueue(ChargeCard { order_id: 1 }).await?;
    t.client()
        .enqueue(ImportCsv {
            file: "a.csv".into(),
        })
        .await?;
    let bad = failures::enqueue_bad_payload(&t.client()).await?;
    let report = t
        .drain_with(
            failures::worker(t.client()),
            DrainOptions::new().with_retries(),
        )
        .await?;
    let charge: Vec<_> = report
        .runs_of("charge_card")
        .map(|run| run.attempt)
        .collect();
    assert_eq!(charge, [1, 2, 3]);
    assert!(
        report
            .runs_of("charge_card")
            .last()
            .is_some_and(|run| run.succeeded())
    );
    let import: Vec<_> = report
        .runs_of("import_csv")
        .map(|run| (run.id, &run.outcome))
        .collect();
    assert_eq!(
        import.len(),
        4,
        "3 attempts of the poison job, 1 of the bad payload"
    );
    let bad_run = import
        .iter()
        .find(|(id, _)| *id == Some(bad))
        .ok_or("bad payload never ran")?;
    assert!(
        matches!(bad_run.1, InlineOutcome::Dead { error } if error.contains("does not match job type 'import_csv'")),
        "{:?}",
        bad_run.1
    );
    let dead = t.dead::<ImportCsv>().await?;
    assert_eq!((dead.len(), dead[0].attempt), (1, 3));
    drop(t);

    // Then the example's own run, with a real worker and real backoff.
    let t = TestRedis::named("failures").await?;
    let summary = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        failures::run(t.client()),
    )
    .await
    .map_err(|_| "the example did not finish within 90 s")??;
    assert_eq!(
        summary.import_errors,
        [
            "customers.csv: line 1: unexpected column 'e-mail'",
            "customers.csv: line 1: unexpected column 'e-mail'",
            "customers.csv: line 1: unexpected column 'e-mail'"
        ]
    );
    assert!(
        summary.bad_payload_error.contains("missing field `file`"),
        "{}",
        summary.bad_payload_error
    );
    assert_eq!(
        summary.import_events,
        [
            "enqueued",
            "started",
            "failed",
            "retrying",
            "started",
            "failed",
            "retrying",
            "started",
            "failed",
            "dead",
            "started",
            "succeeded"
        ],
        "three failed attempts, dead, retried by the operator, succeeded"
    );
    assert_eq!(summary.import_outcomes, ["dead", "succeeded"]);
    let admin = t.client().admin();
    let imports = admin.queue("imports").await?;
    let billing = admin.queue("billing").await?;
    assert_eq!((billing.processed, billing.failed), (1, 2));
    assert_eq!(
        (imports.processed, imports.dead),
        (1, 1),
        "the import succeeded; the bad payload stays dead"
    );
    assert!(admin.job("imports", summary.import).await?.is_none());
    Ok(())
}
