//! An enqueuing process for the process-level idempotency test: waits
//! until the wall clock reaches `JQ_START_AT_MS` (so several processes
//! fire together), then enqueues `JQ_ENQUEUES` `NoopJob { n: JQ_PAYLOAD }`
//! with the idempotency key `JQ_KEY` (one day window) as fast as it can,
//! alternating single and bulk enqueues, and prints one line per outcome:
//! `enqueued <id>`, `exists <id>` or `conflict <id>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jobqueue_core::{Client, ClientConfig, Error, UniqueOutcome};
use jobqueue_integration::jobs::NoopJob;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn env_u64(name: &str, default: u64) -> u64 {
    env(name, &default.to_string()).parse().unwrap_or(default)
}

const DAY: Duration = Duration::from_secs(24 * 3600);

fn print_outcome(outcome: Result<UniqueOutcome, Error>) -> Result<(), Error> {
    match outcome {
        Ok(UniqueOutcome::Enqueued { id }) => println!("enqueued {id}"),
        Ok(UniqueOutcome::Exists { existing }) => println!("exists {existing}"),
        Ok(other) => println!("other {other:?}"),
        Err(Error::IdempotencyConflict { original, .. }) => println!("conflict {original}"),
        Err(e) => return Err(e),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config =
        ClientConfig::new(env("JQ_URL", "redis://127.0.0.1:6379")).prefix(env("JQ_PREFIX", "jq"));
    let client = Client::with_config(config).await?;
    let key = env("JQ_KEY", "order");
    let job = NoopJob {
        n: env_u64("JQ_PAYLOAD", 1),
    };
    let start_at = env_u64("JQ_START_AT_MS", 0);
    let now = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    if start_at > now {
        tokio::time::sleep(Duration::from_millis(start_at - now)).await;
    }
    for i in 0..env_u64("JQ_ENQUEUES", 20) {
        if i % 2 == 0 {
            let outcome = client
                .job(job.clone())
                .idempotency_key(&key, DAY)
                .enqueue_unique()
                .await;
            print_outcome(outcome)?;
        } else {
            let prepared = client
                .job(job.clone())
                .idempotency_key(&key, DAY)
                .prepare()?;
            for outcome in client.enqueue_prepared_outcomes(vec![prepared]).await? {
                print_outcome(outcome)?;
            }
        }
    }
    Ok(())
}
