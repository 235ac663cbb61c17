//! Every Redis key name jobqueue uses, built in one place.
//!
//! Nobody formats a key string anywhere else: scripts receive their keys in
//! `KEYS` from these functions, so a script never touches a key it did not
//! declare (Redis Cluster requirement) and every key sits under the
//! configured prefix (DESIGN.md invariant 6).
//!
//! All keys of one queue carry the queue name as a Redis Cluster hash tag,
//! `{queue}`, so every per-queue script touches a single slot (invariant 4).
//!
//! | key | type | holds | built by |
//! | --- | --- | --- | --- |
//! | `P:schema` | string | schema version of the data layout | [`Keys::schema`] |
//! | `P:migrate:lock` | string | migration lock (owner token, with TTL) | [`Keys::migrate_lock`] |
//! | `P:queues` | set | names of all known queues | [`Keys::queues`] |
//! | `P:workers` | zset | worker id → last heartbeat (ms, Redis clock) | [`Keys::workers`] |
//! | `P:worker:<wid>` | hash | worker process info (host, pid, queues, …; TTL) | [`Keys::worker`] |
//! | `P:audit:log` | stream | audit log: operator actions and refused requests (capped, `MAXLEN ~`) | [`Keys::audit_log`] |
//! | `P:audit:refusals:<reason>` | hash | refusals of one kind logged and suppressed in the current window: `window`, `logged`, `suppressed` (TTL) | [`Keys::audit_refusals`] |
//! | `P:dashboard:session:<sha256>` | hash | one dashboard sign-in session, keyed by the SHA-256 (hex) of the random id its cookie holds: `name`, `kind`, `role`, `expires` (ms, Redis clock); TTL the idle timeout | [`Keys::dashboard_session`] |
//! | `P:{login}:attempts:<scope>` | string | dashboard sign-in attempts in the current window, per client address (`ip:<address>`) or user name (`user:<sha256>`) (TTL the window) | [`Keys::login_attempts`] |
//! | `P:{alerts}:leader` | string | id of the dashboard process evaluating the alert rules (PX the lease; `alert_lease.lua`) | [`Keys::alerts_leader`] |
//! | `P:{alerts}:rule:<rule>` | hash | one alert rule's state: `status` (`ok` \| `firing`), `checked` (ms), `findings`, `last_fired` (ms), `last_fingerprint`, `last_message`, `fired`, `deduped`, `suppressed`, `last_delivery`, `delivered` (ms) (TTL 30 days after the last check) | [`Keys::alert_rule`] |
//! | `P:{alerts}:dedup:<sha256>` | string | present while firings of one rule and fingerprint are deduplicated, named by the SHA-256 (hex) of `<rule>\0<fingerprint>` (PX the rule's cool-down; `alert_fire.lua`) | [`Keys::alert_dedup`] |
//! | `P:{alerts}:sink:<sink>` | hash | one alert sink's rate limit: `window` (start of the minute, ms), `sent` in it, `pending` (suppressed since the last sent firing), `suppressed_total` (TTL 1 day) | [`Keys::alert_sink`] |
//! | `P:{alerts}:seen:<rule>` | zset | error fingerprint → last seen (ms): what a `new_error` rule has seen (capped to the newest 10,000; TTL 30 days after the last evaluation) | [`Keys::alert_seen_errors`] |
//! | `P:stats:minute:<epoch minute>` | hash | legacy: global per-minute bucket of workers from before the per-queue counters (TTL 2 h), still added to the minute history | [`Keys::legacy_stats_minute`] |
//! | `P:{Q}:ready` | list | records ready to run, FIFO (push right, pop left) | [`QueueKeys::ready`] |
//! | `P:{Q}:purging` | list | the ready records an operator's purge took aside and drops a page at a time (`purge.lua`, which counts batch jobs as cancelled and drops their durable memos); absent otherwise | [`QueueKeys::purging`] |
//! | `P:{Q}:purging:priority` | zset | the prioritised records an operator's purge took aside, dropped after `P:{Q}:purging` | [`QueueKeys::purging_priority`] |
//! | `P:{Q}:priority` | zset | records with a non-zero priority, by effective ready time | [`QueueKeys::priority`] |
//! | `P:{Q}:scheduled` | zset | job id → run-at (ms) | [`QueueKeys::scheduled`] |
//! | `P:{Q}:retry` | zset | job id → retry-at (ms) | [`QueueKeys::retry`] |
//! | `P:{Q}:dead` | zset | job id → died-at (ms) | [`QueueKeys::dead`] |
//! | `P:{Q}:cancelled` | zset | job id → cancelled-at (ms) (bounded) | [`QueueKeys::cancelled`] |
//! | `P:{Q}:expired` | zset | job id → expired-at (ms) (bounded) | [`QueueKeys::expired`] |
//! | `P:{Q}:waiting` | zset | job id → enqueued-at (ms): jobs waiting for their parents | [`QueueKeys::waiting`] |
//! | `P:{Q}:jobs` | hash | job id → record, for the jobs in the scheduled, retry, dead, cancelled, expired and waiting sets and the flow keys' lists | [`QueueKeys::jobs`] |
//! | `P:{Q}:leases` | zset | worker id → lease deadline (ms, Redis clock) | [`QueueKeys::leases`] |
//! | `P:{Q}:active:<wid>` | hash | job id → record, jobs leased by one worker | [`QueueKeys::active`] |
//! | `P:{Q}:stats` | hash | per-queue counters: `processed`, `failed` (written by the scripts that end jobs), `dead`, `dead_trimmed`, `reclaimed`, `cancelled`, `expired` | [`QueueKeys::stats`] |
//! | `P:{Q}:stats:minute:<epoch minute>` | hash | per-queue per-minute `processed` / `failed` bucket (TTL 2 h; named inside the scripts from `P:{Q}:stats`) | [`QueueKeys::stats_minute`] |
//! | `P:{Q}:stats:day:<YYYY-MM-DD>` | hash | per-queue per-day `processed` / `failed` bucket (TTL 180 days; named inside the scripts from `P:{Q}:stats`) | [`QueueKeys::stats_day`] |
//! | `P:{Q}:paused` | string | present while the queue is paused | [`QueueKeys::paused`] |
//! | `P:{Q}:events` | pub/sub channel | wake-ups and signals: `r` new work, `s` new earliest schedule, `p` pause, `u` resume, `l` flow limits changed or keyed jobs appeared, `c<job id>` cancel a leased job, `w` a slot of the running limit freed while workers waited | [`QueueKeys::events`] |
//! | `P:{Q}:limits` | hash | flow limits: max_running, rate_limit, rate_ms | [`QueueKeys::limits`] |
//! | `P:{Q}:rate` | hash | token bucket of the rate limit: tokens, at (TTL) | [`QueueKeys::rate`] |
//! | `P:{Q}:window` | zset | strict rate limit: `<job id>@<ms>` → lease time (ms) of the starts in the last period (TTL) | [`QueueKeys::rate_window`] |
//! | `P:{Q}:slotwait` | string | present while a worker waits for a slot of the running limit: the next job to end wakes it (`w`; TTL) | [`QueueKeys::slot_waiter`] |
//! | `P:{Q}:flow` | string | present once the queue has had keyed jobs: workers fetch it with `fetch_limited.lua` | [`QueueKeys::flow_marker`] |
//! | `P:{Q}:g:<key>` | list | ids of the jobs waiting for flow key `<key>`, FIFO (records in `P:{Q}:jobs`) | [`QueueKeys::flow_list`] |
//! | `P:{Q}:gwaiting` | string | number of keyed jobs waiting in their keys' lists | [`QueueKeys::flow_waiting`] |
//! | `P:{Q}:gready` | zset | flow key → when it may run next: keys with waiting jobs below their running limit | [`QueueKeys::flow_ready`] |
//! | `P:{Q}:grun` | hash | flow key → its jobs leased now | [`QueueKeys::flow_running`] |
//! | `P:{Q}:glimits` | hash | key class → `max_running:rate_limit:rate_ms` (0 = none) | [`QueueKeys::flow_limits`] |
//! | `P:{Q}:gbucket:<key>` | hash | one flow key's token bucket: tokens, at (TTL) | [`QueueKeys::flow_bucket`] |
//! | `P:{Q}:gwindow:<key>` | zset | one flow key's strict rate window: `<job id>@<ms>` → lease time (TTL) | [`QueueKeys::flow_window`] |
//! | `P:{Q}:gweights` | hash | weighted fairness: key class or flow key → weight (1-1000); present only while weights are set (`fetch_limited.lua` serves deficit round-robin then) | [`QueueKeys::flow_weights`] |
//! | `P:{Q}:gcredit` | hash | weighted fairness: flow key → the credit left of its current turn (jobs), for keys mid-turn | [`QueueKeys::flow_credit`] |
//! | `P:{Q}:gwaits` | list | the waits of the latest keyed job starts, newest first: `<wait ms>:<flow key>` (capped to [`crate::store::commands::flow_waits::WAIT_SAMPLES`]) | [`QueueKeys::flow_waits`] |
//! | `P:{Q}:unique:<digest>` | string | id of the job holding a uniqueness key (TTL) | [`QueueKeys::unique`] |
//! | `P:{Q}:id:<job id>` | string | idempotency marker of a job whose producer gave its id ([`crate::JobBuilder::id`]): digest of its type and payload, so a retried enqueue is a no-op (TTL: the idempotency window, [`crate::ClientConfig::idempotency_window`], default 1 h) | [`QueueKeys::id_marker`] |
//! | `P:{Q}:deps:<id>` | hash | a waiting job's dependency state: parents needed, resolved parents, policy, destination | [`QueueKeys::deps`] |
//! | `P:{Q}:parent:<id>` | hash | a job enqueued with dependents: its `state` (`pending` \| `succeeded` \| `failed` \| `skipped`), its children (`c\|<queue>\|<id>`) and its `result` (JSON) once it succeeded (TTL) | [`QueueKeys::parent`] |
//! | `P:{Q}:workflow:<wid>` | hash | one workflow (recorded on its first node's queue): `name`, `created` (ms), `state` (`enqueueing` \| `placed`), `graph` (JSON nodes and edges), `n:<node>` current job id, `r:<node>` reruns, `cancelled` (ms), `retries` (TTL 30 days after its last change) | [`QueueKeys::workflow`] |
//! | `P:{Q}:workflows` | zset | workflow id → created (ms): the workflows recorded on the queue (trimmed to 30 days and 10,000) | [`QueueKeys::workflows`] |
//! | `P:{Q}:releases` | zset | `<parent id>\|<outcome>` → when: parents whose children are still to be told (outbox) | [`QueueKeys::releases`] |
//! | `P:{Q}:status:<job id>` | hash | a tracked job's status: `state`, `percent`, `message`, `stale`, `result`, `error`, `updated_at` (TTL; see `client::status`) | [`QueueKeys::status`] |
//! | `P:{Q}:steps:<job id>` | hash | a durable job's memo: `step:<name>` → `<ms> <output JSON>`, `sleep:<name>` → wake-at ms, `signal:<name>` → `R <payload JSON>` or `T` (timed out), `wait:<name>` → deadline ms, `~waiting` → the awaited signal (TTL; see `job::steps`) | [`QueueKeys::steps`] |
//! | `P:{Q}:logs:<job id>` | hash | a job's per-attempt logs: `<attempt>` → JSON array of lines, written by the worker when the attempt ends (TTL, refreshed on every write; deleted with the record by `drop_memos`) | [`QueueKeys::logs`] |
//! | `P:{Q}:sleeping` | zset | job id → wake time (ms): an index of the jobs in a durable sleep (they are in the retry set), for counting and listing; entries past their time are trimmed by the next write | [`QueueKeys::sleeping`] |
//! | `P:{Q}:signal_wait` | zset | job id → deadline (ms): an index of the jobs parked waiting for a signal (in the retry set), removed when the signal comes; entries past their time are trimmed by the next write | [`QueueKeys::signal_wait`] |
//! | `P:{Q}:signals:<job id>` | hash | signals sent to a job that has not consumed them yet: name → payload JSON (TTL) | [`QueueKeys::signals`] |
//! | `P:{Q}:idem:<sha256>` | string | an idempotency key ([`crate::JobBuilder::idempotency_key`]), keyed by the SHA-256 (hex) of the key: `<job id> <content digest>` (PX the key's window) | [`QueueKeys::idempotency`] |
//! | `P:{Q}:crons` | set | names of the queue's cron entries | [`QueueKeys::crons`] |
//! | `P:{Q}:cron:<name>` | hash | one cron entry: definition, ticks handled through, paused, last tick, last result | [`QueueKeys::cron`] |
//! | `P:{Q}:tag:<tag>` | zset | the tag index: ids of the jobs enqueued with tag `<tag>` (all scores 0, so ordered by id = enqueue time), written by the enqueue scripts; bounded lazily: each write renews the key's 7-day TTL, one write in 16 trims entries older than 7 days and all but the newest 100,000 (`lua/include/tags.lua`) | [`QueueKeys::tag`] |
//! | `P:{Q}:batch:<bid>` | hash | one batch of jobs on its home queue Q: `total`, `pending`, `succeeded`, `failed` (attempts), `dead`, `holds`, `state`, `description`, `created`, `finished`, `retention_ms`, the callback records `cb:<kind>` and when each fired `fired:<kind>`; a child batch's `parent` (`<queue>\|<id>`), `told` and `told_gen` (its outcome as filed for its parent); a parent's `children` and `child:<id>` = `<generation>\|<outcome>\|<queue>` (TTL the retention once finished) | [`QueueKeys::batch`] |
//! | `P:{Q}:batches_held` | zset | child batch id → open deadline (ms): the child batches held by their producer (not sealed yet), cancelled by `batch_expire_held.lua` once the deadline passed | [`QueueKeys::batches_held`] |
//! | `P:{Q}:batches` | zset | batch id → created (ms): the queue's batches, for listing (entries whose hash expired are dropped when listed) | [`QueueKeys::batches`] |
//!
//! `docs/protocol.md` documents the same keys for producers and workers in
//! other languages; `docs/architecture.md` says which script moves a job
//! between them.

use crate::error::Error;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "jq";

/// Longest accepted queue name, in bytes.
pub const MAX_QUEUE_NAME_LEN: usize = 128;

/// Builds key names under one prefix.
///
/// ```
/// use jobqueue_core::store::keys::Keys;
/// let keys = Keys::new("jq").unwrap();
/// let q = keys.queue("mail").unwrap();
/// assert_eq!(q.ready(), "jq:{mail}:ready");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Validates `prefix` and returns a key builder for it.
    ///
    /// A prefix is non-empty, at most 64 bytes, and holds no braces (they
    /// would break the `{queue}` hash tag) and no whitespace.
    pub fn new(prefix: &str) -> Result<Self, Error> {
        let valid = !prefix.is_empty()
            && prefix.len() <= 64
            && !prefix
                .chars()
                .any(|c| c == '{' || c == '}' || c.is_whitespace() || c.is_control());
        if !valid {
            return Err(Error::InvalidArgument {
                op: "keys",
                message: format!(
                    "key prefix {prefix:?} must be 1-64 characters without braces or whitespace"
                ),
            });
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    /// The prefix every key starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Keys of one queue; fails if the name is not a valid queue name.
    pub fn queue(&self, queue: &str) -> Result<QueueKeys, Error> {
        validate_queue_name(queue)?;
        Ok(QueueKeys::new(&self.prefix, queue))
    }

    /// Schema version of the data layout.
    pub fn schema(&self) -> String {
        format!("{}:schema", self.prefix)
    }

    /// Lock held while migrations run.
    pub fn migrate_lock(&self) -> String {
        format!("{}:migrate:lock", self.prefix)
    }

    /// Set of all known queue names.
    pub fn queues(&self) -> String {
        format!("{}:queues", self.prefix)
    }

    /// Sorted set of live worker ids by last heartbeat.
    pub fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// Info hash of one worker process.
    pub fn worker(&self, worker_id: &str) -> String {
        format!("{}:worker:{}", self.prefix, worker_id)
    }

    /// Audit log of operator actions and refused requests: a stream,
    /// capped (see [`crate::admin::AUDIT_LOG_CAPACITY`]).
    pub fn audit_log(&self) -> String {
        format!("{}:audit:log", self.prefix)
    }

    /// Rate-limit state of one kind of refused request in the audit log
    /// (`reason` is `401`, `403`, `csrf`, `host`, `sign_in` or `throttled`).
    pub fn audit_refusals(&self, reason: &str) -> String {
        format!("{}:audit:refusals:{}", self.prefix, reason)
    }

    /// One dashboard sign-in session, named by the SHA-256 (hex) of the
    /// session id (the cookie's value never appears in Redis).
    pub fn dashboard_session(&self, id_digest: &str) -> String {
        format!("{}:dashboard:session:{}", self.prefix, id_digest)
    }

    /// Dashboard sign-in attempts of one `scope` (`ip:<address>` or
    /// `user:<sha256 of the name>`). Every such key carries the `{login}`
    /// hash tag, so one script counts an address and a user together.
    pub fn login_attempts(&self, scope: &str) -> String {
        format!("{}:{{login}}:attempts:{}", self.prefix, scope)
    }

    /// The alert evaluators' leader lease: the id of the dashboard process
    /// that evaluates the alert rules (PX the lease). Every alert key
    /// carries the `{alerts}` hash tag, so one script reaches them all.
    pub fn alerts_leader(&self) -> String {
        format!("{}:{{alerts}}:leader", self.prefix)
    }

    /// One alert rule's state: status, last check, last firing and counts.
    pub fn alert_rule(&self, rule: &str) -> String {
        format!("{}:{{alerts}}:rule:{}", self.prefix, rule)
    }

    /// Present while firings of one rule with one fingerprint are
    /// deduplicated (PX the rule's cool-down); `digest` is the SHA-256
    /// (hex) of `<rule>\0<fingerprint>` (unambiguous whatever the names
    /// hold, and bounded in length).
    pub fn alert_dedup(&self, digest: &str) -> String {
        format!("{}:{{alerts}}:dedup:{}", self.prefix, digest)
    }

    /// One alert sink's rate-limit window and suppressed counts.
    pub fn alert_sink(&self, sink: &str) -> String {
        format!("{}:{{alerts}}:sink:{}", self.prefix, sink)
    }

    /// The error fingerprints a `new_error` rule has seen (capped).
    pub fn alert_seen_errors(&self, rule: &str) -> String {
        format!("{}:{{alerts}}:seen:{}", self.prefix, rule)
    }

    /// Legacy global per-minute history bucket (`epoch_minute` is Unix
    /// seconds / 60), written only by workers older than the per-queue
    /// counters; the minute history still adds it in, so the chart stays
    /// whole through a rolling upgrade (the buckets expire after 2 hours).
    pub fn legacy_stats_minute(&self, epoch_minute: i64) -> String {
        format!("{}:stats:minute:{}", self.prefix, epoch_minute)
    }
}

/// Keys of one queue, all sharing the `{queue}` hash tag.
///
/// The fixed key names are built once, so hot paths (enqueue, fetch, ack)
/// do not format strings per call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueKeys {
    queue: String,
    base: String,
    ready: String,
    priority: String,
    scheduled: String,
    retry: String,
    dead: String,
    jobs: String,
    leases: String,
    stats: String,
    paused: String,
    events: String,
    waiting: String,
}

impl QueueKeys {
    fn new(prefix: &str, queue: &str) -> Self {
        let base = format!("{prefix}:{{{queue}}}");
        let key = |suffix: &str| format!("{base}:{suffix}");
        Self {
            queue: queue.to_owned(),
            ready: key("ready"),
            priority: key("priority"),
            scheduled: key("scheduled"),
            retry: key("retry"),
            dead: key("dead"),
            jobs: key("jobs"),
            leases: key("leases"),
            stats: key("stats"),
            paused: key("paused"),
            events: key("events"),
            waiting: key("waiting"),
            base,
        }
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.queue
    }

    /// List of records ready to run.
    pub fn ready(&self) -> &str {
        &self.ready
    }

    /// List of the ready records an operator's purge took aside, dropped
    /// a page at a time by `purge.lua`.
    pub fn purging(&self) -> String {
        format!("{}:purging", self.base)
    }

    /// Sorted set of the prioritised records an operator's purge took
    /// aside, dropped after [`QueueKeys::purging`] by `purge.lua`.
    pub fn purging_priority(&self) -> String {
        format!("{}:purging:priority", self.base)
    }

    /// Sorted set of prioritised records.
    pub fn priority(&self) -> &str {
        &self.priority
    }

    /// Sorted set of scheduled job ids by run-at.
    pub fn scheduled(&self) -> &str {
        &self.scheduled
    }

    /// Sorted set of failed job ids waiting for their retry, by retry-at.
    pub fn retry(&self) -> &str {
        &self.retry
    }

    /// Sorted set of dead job ids by time of death.
    pub fn dead(&self) -> &str {
        &self.dead
    }

    /// Hash of job records for scheduled, retry and dead jobs.
    pub fn jobs(&self) -> &str {
        &self.jobs
    }

    /// Sorted set of worker leases on this queue.
    pub fn leases(&self) -> &str {
        &self.leases
    }

    /// Per-queue counters.
    pub fn stats(&self) -> &str {
        &self.stats
    }

    /// Present while the queue is paused.
    pub fn paused(&self) -> &str {
        &self.paused
    }

    /// Pub/sub channel for wake-ups about this queue.
    pub fn events(&self) -> &str {
        &self.events
    }

    /// Hash of the records one worker holds leased.
    pub fn active(&self, worker_id: &str) -> String {
        format!("{}:active:{}", self.base, worker_id)
    }

    /// Per-queue per-day history bucket; `day` is `YYYY-MM-DD` (UTC).
    /// Written by `count_ended` in include/lib.lua, which names it from
    /// [`QueueKeys::stats`] the same way.
    pub fn stats_day(&self, day: &str) -> String {
        format!("{}:day:{}", self.stats, day)
    }

    /// Per-queue per-minute history bucket; `epoch_minute` is Unix
    /// seconds / 60. Written by `count_ended` in include/lib.lua, which names it
    /// from [`QueueKeys::stats`] the same way.
    pub fn stats_minute(&self, epoch_minute: i64) -> String {
        format!("{}:minute:{}", self.stats, epoch_minute)
    }

    /// Status hash of one tracked job (state, progress, result), kept
    /// with a TTL; in the queue's slot, so the scripts moving the job can
    /// write it (`status_key` in include/flow.lua).
    pub fn status(&self, job_id: &str) -> String {
        format!("{}:status:{}", self.base, job_id)
    }

    /// Sorted set of cancelled job ids by time of cancellation.
    pub fn cancelled(&self) -> String {
        format!("{}:cancelled", self.base)
    }

    /// Flow limits of the queue.
    pub fn limits(&self) -> String {
        format!("{}:limits", self.base)
    }

    /// Token bucket state of the queue's rate limit.
    pub fn rate(&self) -> String {
        format!("{}:rate", self.base)
    }

    /// Sorted set of the starts of a strict (sliding-window) rate limit's
    /// last period: `<job id>@<ms>` → lease time.
    pub fn rate_window(&self) -> String {
        format!("{}:window", self.base)
    }

    /// Flag present while a worker waits for a slot of the queue's running
    /// limit (set by `fetch_limited.lua`, taken by `wake_waiters.lua`).
    pub fn slot_waiter(&self) -> String {
        format!("{}:slotwait", self.base)
    }

    /// Sorted set of expired job ids by time of expiry.
    pub fn expired(&self) -> String {
        format!("{}:expired", self.base)
    }

    /// Lock of one uniqueness key; `digest` is its hex SHA-1.
    pub fn unique(&self, digest: &str) -> String {
        format!("{}:unique:{}", self.base, digest)
    }

    /// Idempotency marker of a job whose producer gave its id.
    pub fn id_marker(&self, job_id: &str) -> String {
        format!("{}:id:{}", self.base, job_id)
    }

    /// Sorted set of jobs waiting for their parents, by enqueue time.
    pub fn waiting(&self) -> &str {
        &self.waiting
    }

    /// Dependency state of one job waiting for parents.
    pub fn deps(&self, job_id: &str) -> String {
        format!("{}:deps:{}", self.base, job_id)
    }

    /// State and children of one job enqueued with dependents.
    pub fn parent(&self, job_id: &str) -> String {
        format!("{}:parent:{}", self.base, job_id)
    }

    /// One workflow's record: name, graph, node → current job id, state
    /// (see `crate::workflow`).
    pub fn workflow(&self, workflow_id: &str) -> String {
        format!("{}:workflow:{}", self.base, workflow_id)
    }

    /// Sorted set of the workflows recorded on this queue, by creation
    /// time (trimmed to the retention and a cap).
    pub fn workflows(&self) -> String {
        format!("{}:workflows", self.base)
    }

    /// A durable job's memo of completed steps, sleeps and signals
    /// (`job::steps`), kept with a TTL and deleted when the job succeeds.
    pub fn steps(&self, job_id: &str) -> String {
        format!("{}:steps:{}", self.base, job_id)
    }

    /// Index of the jobs in a durable sleep: id → wake time.
    pub fn sleeping(&self) -> String {
        format!("{}:sleeping", self.base)
    }

    /// Index of the jobs parked waiting for a signal: id → deadline.
    pub fn signal_wait(&self) -> String {
        format!("{}:signal_wait", self.base)
    }

    /// Signals sent to a job and not consumed yet (TTL).
    pub fn signals(&self, job_id: &str) -> String {
        format!("{}:signals:{}", self.base, job_id)
    }

    /// A job's per-attempt logs (`docs/search-logs-events.md`, "Logs"):
    /// attempt number → JSON array of lines (TTL; deleted with the job's
    /// record by `drop_memos`).
    pub fn logs(&self, job_id: &str) -> String {
        format!("{}:logs:{}", self.base, job_id)
    }

    /// An idempotency key: `key_digest` is the SHA-256 (hex) of the key.
    pub fn idempotency(&self, key_digest: &str) -> String {
        // On every idempotent enqueue: one allocation, no formatting.
        const INFIX: &str = ":idem:";
        let mut key = String::with_capacity(self.base.len() + INFIX.len() + key_digest.len());
        key.push_str(&self.base);
        key.push_str(INFIX);
        key.push_str(key_digest);
        key
    }

    /// Outbox of finished parents whose children are still to be told.
    pub fn releases(&self) -> String {
        format!("{}:releases", self.base)
    }

    /// Present once the queue has had keyed jobs: workers fetch it with
    /// `fetch_limited.lua`, which serves flow keys.
    pub fn flow_marker(&self) -> String {
        format!("{}:flow", self.base)
    }

    /// List of the ids of one flow key's waiting jobs (records in
    /// [`QueueKeys::jobs`]). The key is validated by the caller.
    pub fn flow_list(&self, key: &str) -> String {
        format!("{}:g:{}", self.base, key)
    }

    /// Counter of the keyed jobs waiting in their keys' lists.
    pub fn flow_waiting(&self) -> String {
        format!("{}:gwaiting", self.base)
    }

    /// Sorted set of the flow keys with runnable jobs, by when each may run.
    pub fn flow_ready(&self) -> String {
        format!("{}:gready", self.base)
    }

    /// Hash flow key → its jobs leased now.
    pub fn flow_running(&self) -> String {
        format!("{}:grun", self.base)
    }

    /// Hash key class → its limits (`max:rate:per_ms`).
    pub fn flow_limits(&self) -> String {
        format!("{}:glimits", self.base)
    }

    /// Token bucket of one flow key's rate limit.
    pub fn flow_bucket(&self, key: &str) -> String {
        format!("{}:gbucket:{}", self.base, key)
    }

    /// Strict rate window of one flow key (`<job id>@<ms>` → lease time).
    pub fn flow_window(&self, key: &str) -> String {
        format!("{}:gwindow:{}", self.base, key)
    }

    /// Hash key class or flow key → its weight in the fetch's deficit
    /// round-robin (absent while no weight is set).
    pub fn flow_weights(&self) -> String {
        format!("{}:gweights", self.base)
    }

    /// Hash flow key → the credit left of its current round-robin turn.
    pub fn flow_credit(&self) -> String {
        format!("{}:gcredit", self.base)
    }

    /// List of the latest keyed job starts' waits, `<ms>:<flow key>`,
    /// newest first (capped).
    pub fn flow_waits(&self) -> String {
        format!("{}:gwaits", self.base)
    }

    /// Bookkeeping hash of one batch whose home queue is this one.
    pub fn batch(&self, batch_id: &str) -> String {
        format!("{}:batch:{}", self.base, batch_id)
    }

    /// Sorted set of this queue's child batches held by their producer
    /// (batch id → open deadline ms), for `batch_expire_held.lua`.
    pub fn batches_held(&self) -> String {
        format!("{}:batches_held", self.base)
    }

    /// Sorted set of this queue's batches (batch id → created ms).
    pub fn batches(&self) -> String {
        format!("{}:batches", self.base)
    }

    /// The tag index of one tag: the ids of the queue's jobs enqueued with
    /// it (a sorted set, every score 0, members in id order = enqueue
    /// order). Written by the enqueue scripts (`lua/include/tags.lua`).
    pub fn tag(&self, tag: &str) -> String {
        format!("{}:tag:{}", self.base, tag)
    }

    /// The queue's watch switches (`lua/include/observe.lua`): the event
    /// stream's and the history's caps, the history's counters.
    pub fn observe(&self) -> String {
        format!("{}:observe", self.base)
    }

    /// The queue's live event stream (a capped Redis stream, one entry per
    /// script call; `lua/include/observe.lua`).
    pub fn event_stream(&self) -> String {
        format!("{}:event_stream", self.base)
    }

    /// The history of the queue's finished jobs (a capped Redis stream,
    /// one entry per job; `lua/include/observe.lua`).
    pub fn history(&self) -> String {
        format!("{}:history", self.base)
    }

    /// The registered history exporter's progress: `cursor`, the last
    /// entry it wrote, and `exported`, how many it has written.
    pub fn history_export(&self) -> String {
        format!("{}:history:export", self.base)
    }

    /// Set of the names of this queue's cron entries.
    pub fn crons(&self) -> String {
        format!("{}:crons", self.base)
    }

    /// State hash of one cron entry (the name is validated by the caller).
    pub fn cron(&self, name: &str) -> String {
        format!("{}:cron:{}", self.base, name)
    }
}

/// Checks a queue name: 1-128 bytes of ASCII letters, digits and `_ - . :`.
pub fn validate_queue_name(queue: &str) -> Result<(), Error> {
    if is_valid_name(queue, MAX_QUEUE_NAME_LEN) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            op: "keys",
            message: format!(
                "queue name {queue:?} must be 1-{MAX_QUEUE_NAME_LEN} characters of A-Z a-z 0-9 _ - . :"
            ),
        })
    }
}

/// True when `name` is 1..=`max_len` bytes of ASCII letters, digits and `_ - . :`.
pub(crate) fn is_valid_name(name: &str, max_len: usize) -> bool {
    !name.is_empty()
        && name.len() <= max_len
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keys_share_one_hash_tag() {
        let keys = Keys::new("app1").unwrap();
        let q = keys.queue("mail").unwrap();
        for key in [
            q.ready().to_owned(),
            q.priority().to_owned(),
            q.scheduled().to_owned(),
            q.retry().to_owned(),
            q.dead().to_owned(),
            q.jobs().to_owned(),
            q.leases().to_owned(),
            q.active("w1"),
            q.stats().to_owned(),
            q.stats_day("2026-01-01"),
            q.stats_minute(29_000_000),
            q.paused().to_owned(),
            q.events().to_owned(),
            q.crons(),
            q.cron("nightly"),
            q.unique("0a1b"),
            q.id_marker("0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d"),
            q.cancelled(),
            q.expired(),
            q.limits(),
            q.rate(),
            q.waiting().to_owned(),
            q.deps("x"),
            q.parent("x"),
            q.workflow("x"),
            q.workflows(),
            q.releases(),
            q.purging(),
            q.flow_marker(),
            q.flow_waiting(),
            q.flow_list("account:7"),
            q.flow_ready(),
            q.flow_running(),
            q.flow_limits(),
            q.flow_bucket("account:7"),
            q.flow_window("account:7"),
            q.flow_weights(),
            q.flow_credit(),
            q.flow_waits(),
            q.rate_window(),
            q.slot_waiter(),
            q.batch("0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d"),
            q.batches(),
            q.batches_held(),
            q.steps("x"),
            q.sleeping(),
            q.signal_wait(),
            q.signals("x"),
            q.idempotency("ab12"),
            q.purging_priority(),
            q.observe(),
            q.event_stream(),
            q.history(),
            q.history_export(),
        ] {
            assert!(key.starts_with("app1:{mail}:"), "{key}");
        }
    }

    #[test]
    fn the_scripts_derive_flow_keys_from_the_queue_base() {
        // include/flow.lua: queue_key(flow_base(ready, ':ready'), ':g:' .. key), …
        let q = Keys::new("app1").unwrap().queue("mail").unwrap();
        let base = q.ready().strip_suffix(":ready").unwrap();
        assert_eq!(q.jobs().strip_suffix(":jobs"), Some(base));
        assert_eq!(q.flow_ready().strip_suffix(":gready"), Some(base));
        assert_eq!(q.flow_list("a:1"), format!("{base}:g:a:1"));
        assert_eq!(q.flow_running(), format!("{base}:grun"));
        assert_eq!(q.flow_waiting(), format!("{base}:gwaiting"));
        assert_eq!(q.flow_limits(), format!("{base}:glimits"));
        assert_eq!(q.flow_bucket("a:1"), format!("{base}:gbucket:a:1"));
        assert_eq!(q.flow_window("a:1"), format!("{base}:gwindow:a:1"));
        assert_eq!(q.flow_marker(), format!("{base}:flow"));
        // fetch_limited.lua: queue_key(base, ':gweights'), ':gcredit', ':gwaits'
        assert_eq!(q.flow_weights(), format!("{base}:gweights"));
        assert_eq!(q.flow_credit(), format!("{base}:gcredit"));
        assert_eq!(q.flow_waits(), format!("{base}:gwaits"));
        assert_eq!(q.status("x"), format!("{base}:status:x"));
        assert_eq!(q.events(), format!("{base}:events"));
        // include/observe.lua: queue_key(base, ':observe'), …
        assert_eq!(q.observe(), format!("{base}:observe"));
        assert_eq!(q.event_stream(), format!("{base}:event_stream"));
        assert_eq!(q.history(), format!("{base}:history"));
        assert_eq!(q.history_export(), format!("{base}:history:export"));
    }

    #[test]
    fn every_key_is_under_the_prefix() {
        let keys = Keys::new("p").unwrap();
        for key in [
            keys.schema(),
            keys.migrate_lock(),
            keys.queues(),
            keys.workers(),
            keys.worker("w"),
            keys.audit_log(),
            keys.audit_refusals("401"),
            keys.dashboard_session("ab"),
            keys.login_attempts("ip:127.0.0.1"),
            keys.legacy_stats_minute(1),
            keys.alerts_leader(),
            keys.alert_rule("r"),
            keys.alert_dedup("ab"),
            keys.alert_sink("s"),
            keys.alert_seen_errors("r"),
        ] {
            assert!(key.starts_with("p:"), "{key}");
        }
    }

    #[test]
    fn rejects_names_that_would_break_the_hash_tag() {
        assert!(Keys::new("a{b").is_err());
        assert!(Keys::new("").is_err());
        let keys = Keys::new("jq").unwrap();
        assert!(keys.queue("a}b").is_err());
        assert!(keys.queue("with space").is_err());
        assert!(keys.queue("").is_err());
        assert!(keys.queue(&"x".repeat(129)).is_err());
        assert!(keys.queue("critical.v2:eu-west_1").is_ok());
    }
}
