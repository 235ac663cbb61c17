//! Evaluating one rule: what holds now, as findings (a fingerprint and a
//! message each). Reads are bounded: a `dead_rate` rule costs one `ZCOUNT`
//! per queue it watches, a `latency_slo` rule one queue snapshot per
//! queue, a `cron_missed` rule one hash per cron entry, a `new_error` rule
//! its sample of dead jobs per queue plus one `ZADD` per fingerprint.

use std::collections::HashSet;
use std::time::Duration;

use jobqueue_core::Admin;
use jobqueue_core::Error;
use jobqueue_core::admin::DeadError;

use crate::alerts::config::{AlertRule, QueueScope, RuleKind};
use crate::format::short;

/// One thing a rule found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// What it is about: firings are deduplicated on (rule, fingerprint).
    pub(crate) fingerprint: String,
    /// What is wrong, in words.
    pub(crate) message: String,
}

/// Longest error message quoted in a finding, in characters.
const MAX_QUOTED_ERROR: usize = 300;

async fn queues_in(admin: &Admin, scope: &QueueScope) -> Result<Vec<String>, Error> {
    match scope {
        QueueScope::All => admin.queue_names().await,
        QueueScope::One(queue) => Ok(vec![queue.clone()]),
    }
}

/// What `rule` finds now.
pub(crate) async fn findings(admin: &Admin, rule: &AlertRule) -> Result<Vec<Finding>, Error> {
    match &rule.kind {
        RuleKind::DeadRate {
            queue,
            per_minute,
            window,
        } => dead_rate(admin, queue, *per_minute, *window).await,
        RuleKind::LatencySlo { queue, max_latency } => latency(admin, queue, *max_latency).await,
        RuleKind::CronMissed { cron, queue, grace } => {
            cron_missed(admin, cron.as_deref(), queue.as_deref(), *grace).await
        }
        RuleKind::NewError { queue, sample } => new_errors(admin, &rule.name, queue, *sample).await,
    }
}

/// Deaths within `window` on the queues of `scope`, together, over
/// `per_minute`: one `ZCOUNT` per queue.
async fn dead_rate(
    admin: &Admin,
    scope: &QueueScope,
    per_minute: f64,
    window: Duration,
) -> Result<Vec<Finding>, Error> {
    let died = admin
        .dead_within(&queues_in(admin, scope).await?, window)
        .await?;
    let rate = died as f64 / (window.as_secs_f64() / 60.0);
    if rate <= per_minute {
        return Ok(Vec::new());
    }
    let target = match scope {
        QueueScope::All => "*",
        QueueScope::One(name) => name,
    };
    Ok(vec![Finding {
        fingerprint: format!("dead_rate:{target}"),
        message: format!(
            "{died} jobs died in the last {}s on {} ({rate:.1}/min, limit {per_minute}/min)",
            window.as_secs_f64(),
            scope.describe()
        ),
    }])
}

/// Each queue of `scope` (not paused) whose oldest ready job waited
/// longer than `max_latency`: one queue snapshot per queue.
async fn latency(
    admin: &Admin,
    scope: &QueueScope,
    max_latency: Duration,
) -> Result<Vec<Finding>, Error> {
    let max_ms = u64::try_from(max_latency.as_millis()).unwrap_or(u64::MAX);
    let mut found = Vec::new();
    for name in queues_in(admin, scope).await? {
        let info = admin.queue(&name).await?;
        if info.latency_ms > max_ms && !info.paused {
            found.push(Finding {
                fingerprint: format!("latency:{name}"),
                message: format!(
                    "queue {name}: oldest ready job waited {:.1}s (SLO {}s, {} ready)",
                    info.latency_ms as f64 / 1000.0,
                    max_latency.as_secs_f64(),
                    info.ready
                ),
            });
        }
    }
    Ok(found)
}

/// Cron ticks (of the entries named `cron` on `queue`, or all) more than
/// `grace` overdue: one hash per entry.
async fn cron_missed(
    admin: &Admin,
    cron: Option<&str>,
    queue: Option<&str>,
    grace: Duration,
) -> Result<Vec<Finding>, Error> {
    Ok(admin
        .missed_cron_ticks(grace)
        .await?
        .into_iter()
        .filter(|tick| cron.is_none_or(|name| name == tick.name))
        .filter(|tick| queue.is_none_or(|q| q == tick.queue))
        .map(|tick| Finding {
            fingerprint: format!(
                "cron:{}/{}@{}",
                tick.queue,
                tick.name,
                tick.tick.timestamp_millis()
            ),
            message: format!(
                "cron {} on queue {}: the tick of {} did not run (more than {}s late)",
                tick.name,
                tick.queue,
                tick.tick.to_rfc3339(),
                grace.as_secs_f64()
            ),
        })
        .collect())
}

/// Error fingerprints among the newest `sample` dead jobs of each queue
/// of `scope` that rule `rule` never saw: a page of dead jobs per queue,
/// then one `ZADD` per distinct fingerprint in one round trip.
async fn new_errors(
    admin: &Admin,
    rule: &str,
    scope: &QueueScope,
    sample: usize,
) -> Result<Vec<Finding>, Error> {
    let mut errors: Vec<(String, DeadError)> = Vec::new();
    let mut listed = HashSet::new();
    for name in queues_in(admin, scope).await? {
        for error in admin.newest_dead_errors(&name, sample).await? {
            // The first queue a fingerprint is seen on names it.
            if listed.insert(error.fingerprint.clone()) {
                errors.push((name.clone(), error));
            }
        }
    }
    let fingerprints: Vec<String> = errors.iter().map(|(_, e)| e.fingerprint.clone()).collect();
    let first_seen = admin.first_seen_errors(rule, &fingerprints).await?;
    Ok(errors
        .into_iter()
        .zip(first_seen)
        .filter(|(_, new)| *new)
        .map(|((queue, error), _)| Finding {
            fingerprint: format!("error:{}", error.fingerprint),
            message: format!(
                "new error on queue {queue}: {} died with \"{}\" (job {})",
                error.job_type,
                short(&error.message, MAX_QUOTED_ERROR),
                error.job_id
            ),
        })
        .collect())
}
