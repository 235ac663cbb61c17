//! The operator API: inspect queues and jobs, retry, delete, purge, pause.
//!
//! The dashboard, the JSON API and the `jobqueue` CLI are thin layers over
//! this module. Every call costs Redis O(page size) or O(number of queues
//! and workers): nothing here loads a whole set. Every Redis command it
//! needs lives in the store layer ([`crate::store`]).
//!
//! One file per thing an operator sees:
//!
//! | file | holds |
//! | --- | --- |
//! | `handle.rs` | [`Admin`], the page-size bound |
//! | `queues.rs` | queue sizes, latency and counters, totals, pause, resume, purge |
//! | `jobs.rs` | the places a job can be, a job's view, plain listings, a job by id |
//! | `browse.rs` | cursor pages per state with filters (bounded scan) |
//! | `filter.rs` | [`JobFilter`] and the error fingerprint |
//! | `actions.rs` | run now (retry) and delete, by id, for a whole set or all matching a filter |
//! | `search.rs` | finding jobs by tag (index), id, id prefix, type or payload field (bounded scan with a budget) |
//! | `search_query.rs` | [`SearchQuery`]: what a search looks for, checked, and how a record matches |
//! | `search_actions.rs` | retry, delete or cancel the jobs of a search page |
//! | `errors.rs` | dead jobs grouped by error fingerprint (bounded sample) |
//! | `dependencies.rs` | a job's parents (with their states) and children |
//! | `finished.rs` | cancelled and expired jobs |
//! | `keyed.rs` | keyed jobs waiting in their flow keys' lists |
//! | `keys.rs` | flow keys and key-class limits |
//! | `limits.rs` | queue flow limits |
//! | `batches.rs` | batches: counts, callbacks, retry of their dead jobs |
//! | `cron.rs` | cron entries: next run, last result, pause, resume, run now, remove |
//! | `workers.rs` | live workers and what each is running |
//! | `history.rs` | per-minute and per-day processed/failed buckets |
//! | `scaling/` | the autoscaling signal: desired workers per queue from backlog, due jobs, throughput and targets |
//! | `alerts.rs` | alert state: leader lease, firing with deduplication and rate limits, rule status, seen error fingerprints |
//! | `alert_signals.rs` | what alert rules watch: recent deaths, missed cron ticks, newest dead errors |
//! | `audit.rs` | the bounded audit log of operator actions and refused requests |
//! | `server.rs` | Redis version and memory |
//! | `prefix_purge.rs` | counting and removing every key under the prefix |
//! | `sessions.rs` | dashboard sign-in sessions and sign-in throttling |
//! | `visible_text.rs` | escaping characters a reader cannot see (controls, bidi) |

mod actions;
mod alert_signals;
pub mod alerts;
pub mod audit;
pub mod batches;
mod browse;
pub mod cron;
mod dependencies;
pub mod durable;
mod errors;
pub mod events;
pub mod fairness;
mod filter;
pub mod finished;
mod handle;
mod history;
pub mod job_history;
pub mod job_logs;
mod jobs;
mod keyed;
pub mod keys;
pub mod limits;
mod payload_rotation;
mod prefix_purge;
mod queues;
pub mod scaling;
mod search;
mod search_actions;
mod search_query;
mod server;
mod sessions;
mod visible_text;
mod workers;

pub use alert_signals::{DeadError, MAX_NEW_ERROR_SAMPLE, MissedCronTick};
pub use alerts::{AlertRuleState, AlertSinkState, MAX_SEEN_ERRORS, SinkDecision};
pub use audit::{AuditEntry, OUTCOME_DONE, REFUSALS_PER_MINUTE, RefusalReason};
pub use batches::{
    BatchCallback, BatchChild, BatchInfo, BatchLink, BatchState, MAX_BATCHES_PER_PAGE,
    MAX_CHILDREN_SHOWN,
};
pub use browse::{BrowseState, BulkAction, JobPage, MAX_SCAN_PER_PAGE};
pub use dependencies::{ChildRef, JobDependencies, ParentStatus};
pub use durable::DurableState;
pub use errors::{DEAD_GROUP_SAMPLE, ErrorGroup, ErrorGroups};
pub use events::{EventId, EventPage, EventStart, JobEvent, JobEventKind};
pub use fairness::{
    FlowWaits, FlowWeight, KeyWait, MAX_FLOW_WEIGHT, MAX_WAIT_KEYS, OTHER_KEYS, WAIT_SAMPLES,
};
pub use filter::{JobFilter, error_fingerprint, normalise_error_message};
pub use handle::{AUDIT_LOG_CAPACITY, Admin, MAX_PAGE_SIZE};
pub use history::{HistoryPoint, MAX_HISTORY_DAYS, MAX_HISTORY_MINUTES};
pub use job_history::{
    DEFAULT_HISTORY_BUDGET, HistoryEntry, HistoryFilter, HistoryPage, HistoryStatus,
    MAX_HISTORY_BUDGET,
};
pub use job_logs::AttemptLog;
pub use jobs::{JobInfo, JobSet, JobState, millis_to_datetime};
pub use payload_rotation::{
    DEFAULT_ROTATION_BATCH, MAX_ROTATION_BATCH, PayloadKeyStatus, RotationReport,
};
pub use queues::{QueueInfo, Totals};
pub use search::{DEFAULT_SEARCH_BUDGET, MAX_SEARCH_BUDGET, SearchHit, SearchPage};
pub use search_actions::{SearchAction, SearchActionReport};
pub use search_query::SearchQuery;
pub use server::ServerInfo;
pub use sessions::DashboardSession;
pub use visible_text::{escape_hidden, escaped, is_hidden, is_invisible_format_char};
pub use workers::RunningJob;
