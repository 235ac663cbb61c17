//! `jobqueue alerts list|test`: the alert rules with their state, as on
//! the dashboard's Alerts page, and a test firing of one rule to its
//! sinks. The rules come from the same configuration as `jobqueue serve`'s
//! (`JOBQUEUE_ALERTS_FILE`, `JOBQUEUE_ALERTS_WEBHOOK_URL`, …).

use std::sync::Arc;

use clap::{Args, Subcommand};
use jobqueue_core::Client;

use jobqueue_dashboard::alerts::{
    AlertError, AlertEvaluator, AlertsConfig, AlertsOverview, DeliveryOutcome, alerts_overview,
};
use jobqueue_dashboard::format::{count, short, time};

use super::exit::{CliError, CliResult, EXIT_ERROR, EXIT_NOT_FOUND, EXIT_USAGE};
use super::output::{json, table};

/// `jobqueue alerts ...`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AlertsCommand,
}

/// The alerts subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Every rule: condition, state (ok/firing), last firing, counts; the sinks and the leader.
    List,
    /// Send a test firing of a rule to its sinks now (rate-limited and audited like any firing).
    Test(TestArgs),
}

/// Which rule to test.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The rule's name.
    pub rule: String,
}

/// The configuration from the environment (and the `--config` file).
pub(crate) fn config_from_env() -> Result<Option<AlertsConfig>, CliError> {
    AlertsConfig::from_env().map_err(|e| CliError::new(EXIT_USAGE, e.to_string()))
}

fn cli_error(err: AlertError) -> CliError {
    match err {
        AlertError::Config(_) => CliError::new(EXIT_USAGE, err.to_string()),
        AlertError::UnknownRule(_) => CliError::new(EXIT_NOT_FOUND, err.to_string()),
        AlertError::Redis(err) => err.into(),
        AlertError::Delivery(_) => CliError::new(EXIT_ERROR, err.to_string()),
    }
}

/// `jobqueue alerts`.
pub(crate) async fn alerts(client: &Client, args: &AlertsArgs, as_json: bool) -> CliResult {
    let config = config_from_env()?;
    match &args.command {
        AlertsCommand::List => {
            let overview = alerts_overview(&client.admin(), config.as_ref()).await?;
            if as_json {
                return json(&overview);
            }
            list(&overview);
            Ok(())
        }
        AlertsCommand::Test(test) => {
            let config = config.ok_or_else(|| {
                CliError::new(
                    EXIT_USAGE,
                    "no alerts configured: set JOBQUEUE_ALERTS_FILE (see docs/alerts.md)",
                )
            })?;
            let evaluator =
                AlertEvaluator::new(client.admin(), Arc::new(config)).map_err(cli_error)?;
            let deliveries = evaluator.send_test(&test.rule).await.map_err(cli_error)?;
            if as_json {
                json(&deliveries)?;
            } else {
                for d in &deliveries {
                    match &d.outcome {
                        DeliveryOutcome::Sent { attempts } => {
                            println!("{}: sent ({attempts} tries)", d.sink);
                        }
                        DeliveryOutcome::Suppressed => {
                            println!("{}: suppressed by its rate limit", d.sink);
                        }
                        DeliveryOutcome::Failed { attempts, error } => {
                            println!("{}: failed after {attempts} tries: {error}", d.sink);
                        }
                    }
                }
            }
            if deliveries
                .iter()
                .any(|d| matches!(d.outcome, DeliveryOutcome::Failed { .. }))
            {
                return Err(CliError::new(
                    EXIT_ERROR,
                    "a sink did not take the test firing",
                ));
            }
            Ok(())
        }
    }
}

fn list(overview: &AlertsOverview) {
    if !overview.configured {
        println!("no alert rules configured (set JOBQUEUE_ALERTS_FILE, see docs/alerts.md)");
        return;
    }
    let rows: Vec<Vec<String>> = overview
        .rules
        .iter()
        .map(|rule| {
            vec![
                rule.name.clone(),
                rule.kind.to_owned(),
                rule.state
                    .status
                    .clone()
                    .unwrap_or_else(|| "not checked".to_owned()),
                time(rule.state.last_fired_at),
                short(rule.state.last_message.as_deref().unwrap_or(""), 60),
                count(rule.state.fired),
                count(rule.state.deduped),
                count(rule.state.suppressed),
            ]
        })
        .collect();
    table(
        &[
            "RULE",
            "KIND",
            "STATE",
            "LAST FIRED",
            "LAST MESSAGE",
            "FIRED",
            "DEDUPED",
            "SUPPRESSED",
        ],
        &rows,
    );
    let sinks: Vec<Vec<String>> = overview
        .sinks
        .iter()
        .map(|sink| {
            vec![
                sink.name.clone(),
                sink.host.clone(),
                sink.max_per_minute.to_string(),
                count(sink.state.suppressed_total),
            ]
        })
        .collect();
    println!();
    table(&["SINK", "HOST", "LIMIT/MIN", "SUPPRESSED"], &sinks);
    println!("\nleader: {}", overview.leader.as_deref().unwrap_or("none"));
}
