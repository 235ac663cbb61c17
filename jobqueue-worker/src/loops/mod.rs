//! The worker's background loops, one file each, named for what they do:
//! the fetcher (with its fetch rounds), the outcome writer, lease renewal
//! (heartbeat), the reaper of lapsed leases, the delayed-job promoter, the
//! cron loop, the event subscriber and the ready watchers; the housekeeping thread that hosts
//! the ones jobs must not starve; and the backoff they retry Redis with.

pub(crate) mod cron_ticks;
pub(crate) mod event_subscriber;
pub(crate) mod fetch_round;
pub(crate) mod fetcher;
pub(crate) mod heartbeat;
pub(crate) mod housekeeping;
pub(crate) mod outcome_writer;
pub(crate) mod promoter;
pub(crate) mod ready_watcher;
pub(crate) mod reaper;
pub(crate) mod retry_backoff;
