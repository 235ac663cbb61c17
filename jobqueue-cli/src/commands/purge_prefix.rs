//! `jobqueue purge --all-keys`: removes every key under the key prefix
//! (`--prefix`, default `jq`), after showing how many there are and, unless
//! `--yes`, asking for the prefix to be typed back. Keys of other prefixes
//! are never touched (SCAN `<prefix>:*` and UNLINK, in the store layer).

use jobqueue_core::Client;
use serde::Serialize;

use super::confirm::confirm;
use super::exit::CliResult;
use super::output::{count, json};

#[derive(Serialize)]
struct Outcome<'a> {
    action: &'a str,
    prefix: &'a str,
    count: u64,
}

/// Counts the keys under the prefix, confirms, removes them.
pub(crate) async fn purge_prefix(client: &Client, yes: bool, as_json: bool) -> CliResult {
    let admin = client.admin();
    let prefix = admin.store().keys().prefix().to_owned();
    let found = admin.count_prefix_keys().await?;
    if !as_json {
        eprintln!("{} key(s) under '{prefix}:'", count(found));
    }
    if found == 0 {
        return report(&prefix, 0, as_json);
    }
    if !yes {
        let workers = admin.workers().await?.len();
        let question = format!(
            "Delete all {} keys under '{prefix}:' ({workers} live worker(s))? \
             Type the prefix to confirm: ",
            count(found)
        );
        confirm(&question, &prefix)?;
    }
    let removed = admin.purge_prefix().await?;
    report(&prefix, removed, as_json)
}

fn report(prefix: &str, removed: u64, as_json: bool) -> CliResult {
    if as_json {
        return json(&Outcome {
            action: "purge_all_keys",
            prefix,
            count: removed,
        });
    }
    println!("removed {} key(s) under '{prefix}:'", count(removed));
    Ok(())
}
