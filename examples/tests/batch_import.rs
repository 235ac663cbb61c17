//! The batch import example, end to end against the test Redis: the rows
//! run as one batch, the rejected row fires on_death once, and the report
//! (on_complete) runs once, after every row and the archive (a child batch
//! on another queue), with the batch's counts.

#[path = "../batch_import.rs"]
#[allow(dead_code)]
mod batch_import;

use jobqueue::admin::BatchState;
use jobqueue::testing::TestRedis;

#[tokio::test]
async fn the_import_runs_as_one_batch_and_reports_once_when_done()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("batch-import").await?;
    let batch = batch_import::import(&t.client(), "people.csv", batch_import::CSV).await?;
    let report = t.drain(batch_import::worker(t.client())).await?;
    assert_eq!(report.runs_of("import_row").count(), 9);
    assert_eq!(report.runs_of("archive_row").count(), 9);
    assert_eq!(report.runs_of("alert_ops").count(), 1);
    assert_eq!(report.runs_of("send_report").count(), 1);
    let info = t
        .client()
        .admin()
        .batch(batch_import::QUEUE, batch.id())
        .await?;
    assert_eq!(info.state, BatchState::Finished);
    // 9 rows and the archive (a child batch, one job of the import).
    assert_eq!((info.total, info.succeeded, info.dead), (10, 9, 1));
    assert_eq!(info.children.len(), 1);
    assert_eq!(info.children[0].queue, batch_import::ARCHIVE_QUEUE);
    let sent = batch_import::SENT_REPORTS
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default();
    assert_eq!(
        sent,
        ["people.csv: 9 rows, 8 imported, 1 rejected; archive succeeded"]
    );
    Ok(())
}
