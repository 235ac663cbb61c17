//! Payload versioning end to end: payloads written by older versions of a
//! job type, enqueued as raw JSON, run on a worker with the current type.

#[path = "../payload_versioning.rs"]
#[allow(dead_code)]
mod payload_versioning;

use std::time::Duration;

use jobqueue::testing::{InlineOutcome, TestRedis};
use payload_versioning::SendInvoice;

fn invoice(first: &str, last: &str, cents: u64, currency: &str) -> SendInvoice {
    SendInvoice {
        first_name: first.into(),
        last_name: last.into(),
        amount_cents: cents,
        currency: currency.into(),
    }
}

// One test per binary: the job reaches Redis through a process-wide static.
#[tokio::test]
async fn old_payloads_are_upcast_and_run_by_the_current_worker()
-> Result<(), Box<dyn std::error::Error>> {
    let t = TestRedis::named("versioning").await?;
    let client = t.client();
    payload_versioning::set_job_client(&client);
    payload_versioning::enqueue_all_versions(&client).await?;

    // The stored payloads stay as written; reading them upcasts.
    let waiting = t.assert_enqueued_count::<SendInvoice>(3).await;
    assert_eq!(
        waiting[0].payload,
        r#"{"customer":"Ada Lovelace","amount_cents":1250}"#
    );
    assert_eq!(waiting[0].job, invoice("Ada", "Lovelace", 1250, "EUR"));

    // A real worker (not the inline one) runs them.
    let worker = payload_versioning::worker(client.clone()).start().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while payload_versioning::sent(&client).await?.len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not run the 3 jobs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await;
    assert_eq!(
        payload_versioning::sent(&client).await?,
        [
            invoice("Ada", "Lovelace", 1250, "EUR"),
            invoice("Grace", "Hopper", 900, "EUR"),
            invoice("Alan", "Turing", 4200, "GBP"),
        ]
    );
    assert_eq!(client.admin().queue("default").await?.dead, 0);

    // A v1 payload the upcast cannot repair is dead-lettered, saying so.
    let broken =
        payload_versioning::enqueue_raw(&client, 1, r#"{"customer_name":"Nobody"}"#).await?;
    let report = t.drain(payload_versioning::worker(t.client())).await?;
    let run = report.runs.first().ok_or("the broken job did not run")?;
    assert_eq!(run.id, Some(broken));
    assert!(
        matches!(&run.outcome, InlineOutcome::Dead { error }
            if error.contains("version 1, upcast to 2") && error.contains("missing field `amount_cents`")),
        "{:?}",
        run.outcome
    );
    Ok(())
}
