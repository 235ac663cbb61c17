//! One scheduler pass over a cron entry: which ticks to enqueue now.
//!
//! A pass reads the entry's `through` (every tick at or before it is
//! handled) and the Redis clock, and hands `cron_tick.lua` the runs of the
//! ticks after `through` up to [`LOOKAHEAD_MS`] ahead. The script
//! compare-and-sets `through`, so of any number of processes making the
//! same pass one wins and the rest write nothing: one enqueue per tick.
//! Future ticks become scheduled jobs and are promoted exactly on time by
//! the delayed-job machinery; the lookahead only has to cover the gap
//! between passes. Under the skip policy an on-time run that cannot start
//! within the misfire grace expires (see `run_expiry`): never late.

use super::entry::{CronEntry, Misfire};
use crate::error::Error;
use crate::store::{CronState, CronTickOutcome, Store};

/// How far ahead ticks are enqueued as scheduled jobs. A tick within this
/// of its time when the schedulers stop still runs when workers return.
pub const LOOKAHEAD_MS: i64 = 2_000;

/// A tick up to this late is not a misfire: it runs at once whatever the
/// policy (a scheduler that was busy or restarting for a few seconds
/// should not drop a run). Older missed ticks follow [`super::Misfire`].
pub const MISFIRE_GRACE_MS: i64 = 60_000;

/// Most missed ticks counted per pass for the `skipped` statistic.
const MAX_MISSED_COUNTED: usize = 10_000;

/// Most on-time ticks enqueued per pass (a once-a-second schedule has 62
/// in the grace window plus lookahead).
const MAX_ON_TIME_RUNS: usize = 200;

/// How often a pass loses the compare-and-set before giving up until the
/// next pass (another process is making progress meanwhile).
const MAX_ATTEMPTS: usize = 3;

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CronPass {
    /// Runs this pass enqueued (0 when another process did it, or paused).
    pub enqueued: u64,
    /// Missed ticks this pass skipped by the misfire policy.
    pub skipped: u64,
    /// When the next pass is needed (Redis clock, ms); `None` when the
    /// entry is paused or its schedule has no more ticks.
    pub next_pass_ms: Option<i64>,
    /// The Redis clock when the pass read it (ms).
    pub now_ms: i64,
}

/// The ticks one pass hands to the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TickPlan {
    pub(crate) ticks: Vec<i64>,
    pub(crate) skipped: u64,
    pub(crate) new_through: i64,
    pub(crate) next_pass_ms: Option<i64>,
}

impl CronEntry {
    /// Works out the ticks to enqueue when every tick at or before
    /// `through` is handled and the Redis clock reads `now_ms`.
    pub(crate) fn plan(&self, through: Option<i64>, now_ms: i64) -> TickPlan {
        // First pass of a new entry: nothing before now was missed.
        let base = through.unwrap_or(now_ms);
        let horizon = now_ms + LOOKAHEAD_MS;
        let grace_start = now_ms - MISFIRE_GRACE_MS;
        let mut ticks = Vec::new();
        let mut skipped = 0;
        if base < grace_start {
            let missed = self
                .schedule
                .count_between(base, grace_start, MAX_MISSED_COUNTED);
            let kept = self.schedule.latest_between(
                base,
                grace_start,
                self.definition.misfire.runs_kept(),
            );
            skipped = missed.saturating_sub(kept.len()) as u64;
            ticks.extend(kept);
        }
        let on_time = self
            .schedule
            .ticks_between(base.max(grace_start), horizon, MAX_ON_TIME_RUNS);
        let new_through = match on_time.last() {
            Some(&last) if on_time.len() == MAX_ON_TIME_RUNS => last,
            _ => horizon.max(base),
        };
        ticks.extend(on_time);
        let next_pass_ms = self
            .schedule
            .next_after(new_through)
            .map(|tick| tick - LOOKAHEAD_MS);
        TickPlan {
            ticks,
            skipped,
            new_through,
            next_pass_ms,
        }
    }

    /// Stores the definition and lists the entry (done by every process
    /// that registers it; the entry's progress is kept).
    pub async fn register(&self, store: &Store) -> Result<(), Error> {
        let queue = store.queue_keys(&self.definition.queue)?;
        store.register_queues([queue.name()]).await?;
        store
            .cron_register(&queue, &self.definition.name, &self.definition_json()?)
            .await
    }

    /// Makes one scheduler pass: enqueues the runs of the ticks due within
    /// the lookahead that no process has enqueued yet.
    pub async fn run_pass(&self, store: &Store) -> Result<CronPass, Error> {
        let queue = store.queue_keys(&self.definition.queue)?;
        let name = &self.definition.name;
        let mut pass = CronPass {
            enqueued: 0,
            skipped: 0,
            next_pass_ms: None,
            now_ms: 0,
        };
        for _ in 0..MAX_ATTEMPTS {
            let state = match store.cron_state(&queue, name).await? {
                Some(state) if state.definition.is_some() => state,
                // Removed by an operator while still registered in code:
                // the code wins, as it would at the next start.
                _ => {
                    self.register(store).await?;
                    store
                        .cron_state(&queue, name)
                        .await?
                        .unwrap_or_else(CronState::default)
                }
            };
            pass.now_ms = store.redis_time_ms().await?;
            if state.paused_at.is_some() {
                return Ok(pass);
            }
            let through = state.through.as_deref().and_then(|t| t.parse::<i64>().ok());
            let plan = self.plan(through, pass.now_ms);
            let runs = plan
                .ticks
                .iter()
                .map(|&tick| {
                    let expiry = match self.definition.misfire {
                        Misfire::Skip => run_expiry(tick, pass.now_ms),
                        Misfire::RunOnce | Misfire::RunAll { .. } => None,
                    };
                    self.tick_record(tick, expiry)
                        .map(|(_, record)| (record, tick))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let outcome = store
                .cron_tick(
                    &queue,
                    name,
                    state.through.as_deref(),
                    plan.new_through,
                    plan.skipped,
                    &runs,
                )
                .await?;
            match outcome {
                CronTickOutcome::Enqueued(count) => {
                    pass.enqueued = count;
                    pass.skipped = plan.skipped;
                    pass.next_pass_ms = plan.next_pass_ms;
                    return Ok(pass);
                }
                CronTickOutcome::Paused => return Ok(pass),
                CronTickOutcome::Stale => {
                    tracing::debug!(entry = %name, "another scheduler enqueued these ticks first");
                }
            }
        }
        // Others keep winning the race: they are making progress; look
        // again soon.
        pass.next_pass_ms = Some(pass.now_ms + LOOKAHEAD_MS / 2);
        Ok(pass)
    }
}

/// Under [`Misfire::Skip`], when the run of `tick` is dropped if it has not
/// started: an on-time tick's run expires [`MISFIRE_GRACE_MS`] after the
/// tick, so a run enqueued ahead that could not start in time (every worker
/// was down) is skipped like any other misfire instead of running late.
fn run_expiry(tick: i64, now_ms: i64) -> Option<i64> {
    (tick > now_ms - MISFIRE_GRACE_MS).then_some(tick + MISFIRE_GRACE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Job, JobContext, JobError};

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Tick;

    impl Job for Tick {
        const NAME: &'static str = "tick";
        async fn perform(&self, _: &JobContext) -> Result<(), JobError> {
            Ok(())
        }
    }

    const MINUTE: i64 = 60_000;
    // 2026-01-01T00:00:00Z
    const T0: i64 = 1_767_225_600_000;

    fn every_minute(misfire: Misfire) -> CronEntry {
        CronEntry::new("m", "* * * * *", &Tick)
            .unwrap()
            .misfire(misfire)
    }

    #[test]
    fn a_new_entry_enqueues_only_ticks_inside_the_lookahead() {
        let entry = every_minute(Misfire::RunOnce);
        let far = entry.plan(None, T0 + 10_000);
        assert!(far.ticks.is_empty());
        assert_eq!(far.new_through, T0 + 10_000 + LOOKAHEAD_MS);
        assert_eq!(far.next_pass_ms, Some(T0 + MINUTE - LOOKAHEAD_MS));
        let near = entry.plan(None, T0 + MINUTE - 500);
        assert_eq!(near.ticks, vec![T0 + MINUTE]);
        assert_eq!(near.next_pass_ms, Some(T0 + 2 * MINUTE - LOOKAHEAD_MS));
    }

    #[test]
    fn a_pass_that_is_a_little_late_still_runs_the_tick() {
        let plan = every_minute(Misfire::Skip).plan(Some(T0 - 1), T0 + 5_000);
        assert_eq!(plan.ticks, vec![T0]);
        assert_eq!(plan.skipped, 0);
    }

    #[test]
    fn on_time_runs_expire_after_the_grace_and_catch_up_runs_do_not() {
        assert_eq!(run_expiry(T0, T0 - 1000), Some(T0 + MISFIRE_GRACE_MS));
        assert_eq!(run_expiry(T0, T0 + 5000), Some(T0 + MISFIRE_GRACE_MS));
        assert_eq!(run_expiry(T0, T0 + MISFIRE_GRACE_MS + 1), None);
    }

    #[test]
    fn misfire_policies_after_an_hour_without_schedulers() {
        let through = Some(T0);
        let now = T0 + 60 * MINUTE + 30_000;
        // Ticks T0+1min … T0+59min are older than the grace; T0+60min is not.
        let skip = every_minute(Misfire::Skip).plan(through, now);
        assert_eq!(skip.ticks, vec![T0 + 60 * MINUTE]);
        assert_eq!(skip.skipped, 59);
        let once = every_minute(Misfire::RunOnce).plan(through, now);
        assert_eq!(once.ticks, vec![T0 + 59 * MINUTE, T0 + 60 * MINUTE]);
        assert_eq!(once.skipped, 58);
        let all = every_minute(Misfire::RunAll { max: 5 }).plan(through, now);
        assert_eq!(all.ticks.len(), 6);
        assert_eq!(all.ticks[0], T0 + 55 * MINUTE);
        assert_eq!(all.skipped, 54);
    }
}
