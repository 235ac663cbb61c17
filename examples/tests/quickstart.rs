//! The quickstart example, run against the test Redis.

#[path = "../quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

use jobqueue::testing::TestRedis;
use quickstart::SendWelcomeEmail;

#[tokio::test]
async fn signing_up_enqueues_one_welcome_email_per_user() -> Result<(), Box<dyn std::error::Error>>
{
    let t = TestRedis::named("quickstart").await?;
    quickstart::sign_up_users(&t.client()).await?;

    t.assert_enqueued_count::<SendWelcomeEmail>(3).await;
    let ada = t
        .assert_enqueued::<SendWelcomeEmail>(|job| job.email == "ada@example.com")
        .await;
    assert_eq!(ada.job.user_id, 1);
    let report = t.drain(t.worker().register::<SendWelcomeEmail>()).await?;
    assert_eq!(report.succeeded(), 3);
    Ok(())
}

#[tokio::test]
async fn the_worker_runs_every_job_then_stops() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("quickstart-worker").await?;
    quickstart::sign_up_users(&t.client()).await?;
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        quickstart::work_until_idle(t.client()),
    )
    .await
    .map_err(|_| "the worker did not drain the queue within a minute")??;

    let queue = t.client().admin().queue("default").await?;
    assert_eq!((queue.processed, queue.ready, queue.active), (3, 0, 0));
    assert!(t.enqueued::<SendWelcomeEmail>().await?.is_empty());
    Ok(())
}
