//! The delayed_and_cron example, with the test clock of jobqueue-testing.

#[path = "../delayed_and_cron.rs"]
#[allow(dead_code)]
mod delayed_and_cron;

use std::time::Duration;

use delayed_and_cron::{CleanExpiredSessions, SendReminder};
use jobqueue::testing::TestRedis;

// The example's reminder and clean-up jobs reach their client through a
// process-wide static, which is the first test's client (the second test
// runs no such job).
#[tokio::test]
async fn reminders_wait_their_hours_and_the_periodic_job_keeps_one_chain()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("cron").await?;
    let client = t.client();
    delayed_and_cron::set_job_client(&client);
    let worker = || delayed_and_cron::worker(t.client());

    // Reminders: scheduled hours ahead, nothing runs before they are due.
    delayed_and_cron::schedule_reminders(&client).await?;
    let in_two_hours = t
        .assert_enqueued::<SendReminder>(|job| job.text.contains("two hours"))
        .await;
    let wait = in_two_hours.at.ok_or("no due time")? - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(119) && wait <= chrono::Duration::minutes(120));
    assert_eq!(t.drain(worker()).await?.runs.len(), 0);
    t.advance(Duration::from_secs(2 * 3600)).await?;
    let report = t.drain(worker()).await?;
    assert_eq!(report.runs_of("send_reminder").count(), 1);
    t.assert_enqueued_count::<SendReminder>(1).await; // tomorrow's

    // The periodic job: seeded twice (two processes starting), each tick
    // runs once and enqueues exactly one next tick.
    delayed_and_cron::seed_periodic(&client, Duration::from_secs(600)).await?;
    delayed_and_cron::seed_periodic(&client, Duration::from_secs(600)).await?;
    let seeded = t.assert_enqueued_count::<CleanExpiredSessions>(2).await;
    let first_tick = seeded[0].job.tick;
    assert_eq!(first_tick % 600, 0, "ticks sit on the grid");

    t.advance(Duration::from_secs(600)).await?;
    let report = t.drain(worker()).await?;
    assert_eq!(report.runs_of("clean_expired_sessions").count(), 2);
    assert!(report.runs.iter().all(|run| run.succeeded()));
    let next = t.assert_enqueued_count::<CleanExpiredSessions>(1).await;
    assert_eq!(
        next[0].job.tick,
        first_tick + 600,
        "the duplicate did not fork the chain"
    );

    t.advance(Duration::from_secs(600)).await?;
    t.drain(worker()).await?;
    let next = t.assert_enqueued_count::<CleanExpiredSessions>(1).await;
    assert_eq!(next[0].job.tick, first_tick + 1200);
    Ok(())
}

#[tokio::test]
async fn the_digest_is_a_cron_entry_with_its_next_run() -> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("cron-digest").await?;
    let running = delayed_and_cron::worker(t.client()).start().await?;
    let entries = t.client().admin().cron_entries().await?;
    running.shutdown().await;
    let digest = entries
        .iter()
        .find(|entry| entry.job_type == "send_digest")
        .ok_or("the digest is registered as a cron entry")?;
    assert_eq!(digest.schedule, delayed_and_cron::DIGEST_SCHEDULE);
    assert_eq!(digest.queue, "periodic");
    let next = digest.next_run.ok_or("a next run is planned")?;
    let until = next - chrono::Utc::now();
    assert!(
        until <= chrono::Duration::seconds(11),
        "the next tick is at most 10 s away: {until}"
    );
    Ok(())
}
