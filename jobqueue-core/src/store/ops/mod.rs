//! One file per Lua script: `ops/<stem>.rs` builds the call of
//! `src/lua/<stem>.lua` and reads its reply (`docs/architecture.md` has a
//! row for each, and `tests/layout.rs` checks the three share the stem).

pub mod ack;
pub mod ack_keyed;
pub mod ack_parents;
pub mod ack_steps;
pub mod audit_refusal;
pub mod bury;
pub mod cancel;
pub mod cron_resume;
pub mod cron_run_now;
pub mod cron_set;
pub mod cron_tick;
pub mod delete_jobs;
pub mod delete_keyed;
pub mod enqueue_idempotent;
pub mod enqueue_priority;
pub mod enqueue_unique;
pub mod enqueue_waiting;
pub mod enqueue_with_id;
pub mod expire;
pub mod expired_leases;
pub mod fetch;
pub mod fetch_limited;
pub mod handback;
pub mod heartbeat;
pub mod link_child;
pub mod login_attempt;
pub mod parent_open;
pub mod promote;
pub mod purge;
pub mod purge_keyed;
pub mod reclaim;
pub mod release_child;
pub mod requeue;
pub mod retry;
pub mod schedule;
pub mod session_open;
pub mod session_touch;
pub mod signal_send;
pub mod signal_wait;
pub mod step_store;
pub mod unlock;
pub mod wake_waiters;
