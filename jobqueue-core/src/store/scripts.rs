//! The Lua scripts, one per state transition, and how they are called.
//!
//! Each script lives in `src/lua/<transition>.lua` with a header naming
//! its KEYS, ARGV and return value; `include/lib.lua` (shared helpers) is prepended
//! at compile time, `include/keys.lua` (naming keys of the script's queue)
//! and `include/records.lua` (storing records by id without ever
//! replacing one) after it for the scripts that lease or file records,
//! `include/new_jobs.lua` (making jobs ready, idempotency markers) after
//! that for the scripts that place jobs, and `include/flow.lua` (keyed flow
//! control, filing finished jobs, parents' ends) last for the scripts that
//! need it — not for the plain fetch and ack, nor for the idempotent
//! enqueue (`new_jobs` only), which would otherwise pay for defining those
//! helpers on every call; `include/observe.lua` (the event stream and
//! history, when a queue watches) last for the scripts that start or end
//! jobs (`observed` in the macros); `include/tags.lua` (the tag index) after
//! `flow.lua` for the scripts that enqueue new jobs that may carry tags
//! (`lua!(tags …)`, and `lua_deps!`, whose `enqueue_waiting.lua` is one).
//! Scripts are called by SHA (`EVALSHA`); when Redis does
//! not know a script (after a restart or `SCRIPT FLUSH`), it is loaded and
//! the call repeated once.

use std::sync::LazyLock;

use redis::{Cmd, FromRedisValue, ToRedisArgs, Value};

use crate::error::Error;
use crate::store::conn::RedisConnection;

/// Most records sent in one command or script call (keeps Lua's `unpack`
/// within its limits and every call short).
pub(crate) const MAX_RECORDS_PER_CALL: usize = 1000;

/// One Lua script with its SHA1.
#[derive(Debug)]
pub(crate) struct LuaScript {
    name: &'static str,
    /// The include files prepended, in order (`lib`, `keys`, …); read by
    /// the test that keeps docs/protocol.md's table of includes true.
    #[cfg_attr(not(test), allow(dead_code))]
    includes: &'static [&'static str],
    source: &'static str,
    sha: String,
}

impl LuaScript {
    fn new(name: &'static str, includes: &'static [&'static str], source: &'static str) -> Self {
        let sha = sha1_smol::Sha1::from(source).digest().to_string();
        Self {
            name,
            includes,
            source,
            sha,
        }
    }

    /// The script's name: its file is `src/lua/<name>.lua`.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The SHA1 (lowercase hex) of its full source, its name in `EVALSHA`.
    pub(crate) fn sha(&self) -> &str {
        &self.sha
    }

    /// Starts a call with the script's keys.
    pub(crate) fn call(&'static self, keys: &[&str]) -> Call {
        self.call_sized(keys, 0, 0)
    }

    /// Starts a call with the script's keys whose `ARGV` will be
    /// `argv_count` values of about `argv_bytes` bytes in all: the
    /// command's buffers are allocated once (a hot path's call).
    pub(crate) fn call_sized(
        &'static self,
        keys: &[&str],
        argv_count: usize,
        argv_bytes: usize,
    ) -> Call {
        let key_bytes: usize = keys.iter().map(|key| key.len()).sum();
        let mut cmd = Cmd::with_capacity(
            3 + keys.len() + argv_count,
            "EVALSHA".len() + self.sha.len() + 4 + key_bytes + argv_bytes,
        );
        cmd.arg("EVALSHA").arg(&self.sha).arg(keys.len());
        for key in keys {
            cmd.arg(*key);
        }
        Call {
            script: Some(self),
            cmd,
        }
    }
}

/// A script with its includes prepended, in the order given:
/// `script_with!("fetch"; "lib", "keys", "records")` is
/// `include/lib.lua`, `include/keys.lua`, `include/records.lua`, then
/// `fetch.lua`. The macros below name the include sets the scripts share.
macro_rules! script_with {
    ($name:literal; $($include:literal),+) => {
        LuaScript::new(
            $name,
            &[$($include),+],
            concat!(
                $(include_str!(concat!("../lua/include/", $include, ".lua")),)+
                include_str!(concat!("../lua/", $name, ".lua"))
            ),
        )
    };
}

/// The include sets of most scripts: `lib` alone (the hot fetch-free
/// scripts), `records` (leasing or filing records), `new_jobs` (the
/// idempotent enqueue: what places new jobs and indexes their tags,
/// without `flow.lua`), `flow` (keyed flow control, filing finished jobs)
/// and `tags` (the scripts that enqueue new jobs, which may carry tags).
macro_rules! lua {
    ($name:literal) => {
        script_with!($name; "lib")
    };
    (records $name:literal) => {
        script_with!($name; "lib", "keys", "records")
    };
    (new_jobs $name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "tags")
    };
    (flow $name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "flow")
    };
    (tags $name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "flow", "tags")
    };
    (records observed $name:literal) => {
        script_with!($name; "lib", "keys", "records", "observe")
    };
    (flow observed $name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "flow", "observe")
    };
}

/// The batch scripts: `include/batch.lua` after `include/lib.lua` and
/// `include/keys.lua` (its `queue_key` names the release outbox a child
/// batch writes to; the hot ones, which end or add jobs, define nothing
/// else per call), or after everything `flow` has for those that file or
/// trim records.
macro_rules! lua_batch {
    ($name:literal) => {
        script_with!($name; "lib", "keys", "batch")
    };
    (flow $name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "flow", "batch")
    };
    (observed $name:literal) => {
        script_with!($name; "lib", "keys", "batch", "observe")
    };
    (flow observed $name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "flow", "batch", "observe")
    };
}

/// A script that moves jobs waiting for parents: everything `flow` has (a
/// released job may be keyed), `include/tags.lua` (enqueue_waiting.lua
/// indexes a new job's tags) and `include/deps.lua`.
macro_rules! lua_deps {
    ($name:literal) => {
        script_with!($name; "lib", "keys", "records", "new_jobs", "flow", "tags", "deps")
    };
}

/// Every script, loaded once per process.
pub(crate) struct Scripts {
    pub enqueue_priority: LuaScript,
    pub schedule: LuaScript,
    pub fetch: LuaScript,
    pub ack: LuaScript,
    pub retry: LuaScript,
    pub bury: LuaScript,
    pub promote: LuaScript,
    pub heartbeat: LuaScript,
    pub expired_leases: LuaScript,
    pub reclaim: LuaScript,
    pub handback: LuaScript,
    pub requeue: LuaScript,
    pub delete_jobs: LuaScript,
    pub purge: LuaScript,
    pub unlock: LuaScript,
    pub payload_swap: LuaScript,
    pub cron_tick: LuaScript,
    pub cron_resume: LuaScript,
    pub cron_run_now: LuaScript,
    pub cron_set: LuaScript,
    pub enqueue_unique: LuaScript,
    pub cancel: LuaScript,
    pub expire: LuaScript,
    pub fetch_limited: LuaScript,
    pub delete_keyed: LuaScript,
    pub ack_keyed: LuaScript,
    pub purge_keyed: LuaScript,
    pub parent_open: LuaScript,
    pub link_child: LuaScript,
    pub enqueue_waiting: LuaScript,
    pub release_child: LuaScript,
    pub ack_parents: LuaScript,
    pub audit_refusal: LuaScript,
    pub session_open: LuaScript,
    pub session_touch: LuaScript,
    pub login_attempt: LuaScript,
    pub enqueue_with_id: LuaScript,
    pub wake_waiters: LuaScript,
    pub workflow_open: LuaScript,
    pub workflow_mark: LuaScript,
    pub workflow_gate: LuaScript,
    pub ack_batch: LuaScript,
    pub bury_batch: LuaScript,
    pub batch_open: LuaScript,
    pub batch_add: LuaScript,
    pub batch_seal: LuaScript,
    pub batch_retry_dead: LuaScript,
    pub batch_cancel: LuaScript,
    pub batch_link_child: LuaScript,
    pub batch_child_update: LuaScript,
    pub batch_expire_held: LuaScript,
    pub step_store: LuaScript,
    pub ack_steps: LuaScript,
    pub signal_wait: LuaScript,
    pub signal_send: LuaScript,
    pub enqueue_idempotent: LuaScript,
    pub enqueue_idempotent_ready: LuaScript,
    pub history_export: LuaScript,
    pub alert_lease: LuaScript,
    pub alert_fire: LuaScript,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    enqueue_priority: lua!(tags "enqueue_priority"),
    schedule: lua!(tags "schedule"),
    fetch: lua!(records observed "fetch"),
    ack: script_with!("ack"; "lib", "keys", "observe"),
    retry: lua!(flow observed "retry"),
    bury: lua!(flow observed "bury"),
    promote: lua!(flow "promote"),
    heartbeat: lua!("heartbeat"),
    expired_leases: lua!("expired_leases"),
    reclaim: lua!(flow "reclaim"),
    handback: lua!(flow "handback"),
    requeue: lua_batch!(flow "requeue"),
    delete_jobs: lua_batch!(flow "delete_jobs"),
    purge: lua_batch!(flow "purge"),
    unlock: lua!("unlock"),
    payload_swap: lua!("payload_swap"),
    cron_tick: lua!(flow "cron_tick"),
    cron_resume: lua!("cron_resume"),
    cron_run_now: lua!(flow "cron_run_now"),
    cron_set: lua!("cron_set"),
    enqueue_unique: lua!(tags "enqueue_unique"),
    cancel: lua_batch!(flow observed "cancel"),
    expire: lua!(flow observed "expire"),
    fetch_limited: lua!(flow observed "fetch_limited"),
    delete_keyed: lua!(flow "delete_keyed"),
    ack_keyed: lua!(flow observed "ack_keyed"),
    purge_keyed: lua!(flow "purge_keyed"),
    parent_open: lua!(flow "parent_open"),
    link_child: lua!("link_child"),
    enqueue_waiting: lua_deps!("enqueue_waiting"),
    release_child: lua_deps!("release_child"),
    ack_parents: lua!(flow observed "ack_parents"),
    audit_refusal: lua!("audit_refusal"),
    session_open: lua!("session_open"),
    session_touch: lua!("session_touch"),
    login_attempt: lua!("login_attempt"),
    enqueue_with_id: lua!(tags "enqueue_with_id"),
    wake_waiters: lua!("wake_waiters"),
    workflow_open: lua!("workflow_open"),
    workflow_mark: lua!("workflow_mark"),
    workflow_gate: lua!(flow "workflow_gate"),
    ack_batch: lua_batch!(observed "ack_batch"),
    bury_batch: lua_batch!(flow observed "bury_batch"),
    batch_open: lua_batch!(flow "batch_open"),
    batch_add: lua_batch!("batch_add"),
    batch_seal: lua_batch!("batch_seal"),
    batch_retry_dead: lua_batch!("batch_retry_dead"),
    batch_cancel: lua_batch!(flow observed "batch_cancel"),
    batch_link_child: lua_batch!("batch_link_child"),
    batch_child_update: lua_batch!("batch_child_update"),
    batch_expire_held: lua_batch!("batch_expire_held"),
    step_store: lua!("step_store"),
    ack_steps: lua!(flow observed "ack_steps"),
    signal_wait: lua!(flow "signal_wait"),
    signal_send: lua!("signal_send"),
    enqueue_idempotent: lua!(new_jobs "enqueue_idempotent"),
    enqueue_idempotent_ready: lua!("enqueue_idempotent_ready"),
    history_export: lua!("history_export"),
    alert_lease: lua!("alert_lease"),
    alert_fire: lua!("alert_fire"),
});

impl Scripts {
    /// All scripts, for loading them up front.
    pub(crate) fn all(&'static self) -> [&'static LuaScript; 60] {
        [
            &self.enqueue_priority,
            &self.schedule,
            &self.fetch,
            &self.ack,
            &self.retry,
            &self.bury,
            &self.promote,
            &self.heartbeat,
            &self.expired_leases,
            &self.reclaim,
            &self.handback,
            &self.requeue,
            &self.delete_jobs,
            &self.purge,
            &self.unlock,
            &self.payload_swap,
            &self.cron_tick,
            &self.cron_resume,
            &self.cron_run_now,
            &self.cron_set,
            &self.enqueue_unique,
            &self.cancel,
            &self.expire,
            &self.fetch_limited,
            &self.delete_keyed,
            &self.ack_keyed,
            &self.purge_keyed,
            &self.parent_open,
            &self.link_child,
            &self.enqueue_waiting,
            &self.release_child,
            &self.ack_parents,
            &self.audit_refusal,
            &self.session_open,
            &self.session_touch,
            &self.login_attempt,
            &self.enqueue_with_id,
            &self.wake_waiters,
            &self.workflow_open,
            &self.workflow_mark,
            &self.workflow_gate,
            &self.ack_batch,
            &self.bury_batch,
            &self.batch_open,
            &self.batch_add,
            &self.batch_seal,
            &self.batch_retry_dead,
            &self.batch_cancel,
            &self.batch_link_child,
            &self.batch_child_update,
            &self.batch_expire_held,
            &self.step_store,
            &self.ack_steps,
            &self.signal_wait,
            &self.signal_send,
            &self.enqueue_idempotent,
            &self.enqueue_idempotent_ready,
            &self.history_export,
            &self.alert_lease,
            &self.alert_fire,
        ]
    }
}

/// A prepared command: the `EVALSHA` of one script, or a plain command.
pub(crate) struct Call {
    script: Option<&'static LuaScript>,
    cmd: Cmd,
}

impl Call {
    /// A plain (non-script) command.
    pub(crate) fn command(cmd: Cmd) -> Self {
        Self { script: None, cmd }
    }

    /// Appends an `ARGV` value.
    pub(crate) fn arg<T: ToRedisArgs>(mut self, value: T) -> Self {
        self.cmd.arg(value);
        self
    }

    /// Appends an `ARGV` value in place.
    pub(crate) fn push_arg<T: ToRedisArgs>(&mut self, value: T) {
        self.cmd.arg(value);
    }

    /// Runs the script; loads it first if Redis does not know it.
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        conn: &mut RedisConnection,
        op: &'static str,
    ) -> Result<T, Error> {
        match (self.cmd.query_async(conn).await, self.script) {
            (Err(e), Some(script)) if is_noscript(&e) => {
                load(conn, script, op).await?;
                self.cmd.query_async(conn).await.map_err(Error::redis(op))
            }
            (other, _) => other.map_err(Error::redis(op)),
        }
    }

    /// Runs the script as one awaited call over the direct lane when it is
    /// free (else the shared connection): for a producer's single call
    /// whose reply is short. Loads the script first if Redis does not know
    /// it (the lane answers `NOSCRIPT` like any connection).
    pub(crate) async fn invoke_direct(
        &self,
        conn: &RedisConnection,
        op: &'static str,
    ) -> Result<Value, Error> {
        match (conn.query_direct(&self.cmd).await, self.script) {
            (Err(e), Some(script)) if is_noscript(&e) => {
                load(&mut conn.clone(), script, op).await?;
                conn.query_direct(&self.cmd).await.map_err(Error::redis(op))
            }
            (other, _) => other.map_err(Error::redis(op)),
        }
    }
}

/// Runs several calls in one round trip (not atomically: each script is
/// its own transition). Returns one raw reply per call, in order; a call
/// that failed in Redis yields an error.
pub(crate) async fn invoke_pipelined(
    conn: &mut RedisConnection,
    calls: &[Call],
    op: &'static str,
) -> Result<Vec<Value>, Error> {
    match calls {
        [] => return Ok(Vec::new()),
        // One call needs no pipeline (and no copy of its arguments).
        [call] => {
            return call
                .invoke::<Value>(conn, op)
                .await
                .map(|reply| vec![reply]);
        }
        _ => {}
    }
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for call in calls {
        pipe.add_command(call.cmd.clone());
    }
    let mut replies: Vec<Value> = pipe.query_async(conn).await.map_err(Error::redis(op))?;
    if replies.len() != calls.len() {
        return Err(Error::protocol(
            op,
            format!("{} replies for {} commands", replies.len(), calls.len()),
        ));
    }
    // Redis forgot the scripts (restart, SCRIPT FLUSH): load them and repeat
    // only the calls that were refused, so no transition runs twice.
    for (reply, call) in replies.iter_mut().zip(calls) {
        if let (Value::ServerError(err), Some(script)) = (&*reply, call.script)
            && err.kind() == Some(redis::ServerErrorKind::NoScript)
        {
            load(conn, script, op).await?;
            *reply = call.cmd.query_async(conn).await.map_err(Error::redis(op))?;
        }
    }
    replies
        .into_iter()
        .map(|reply| match reply {
            Value::ServerError(err) => Err(Error::redis(op)(err.into())),
            other => Ok(other),
        })
        .collect()
}

/// Scripts sent per `SCRIPT LOAD` round trip at start-up: a few dozen
/// kilobytes each, so the command buffer stays small (one pipeline of every
/// script held about 2 MB at once, which showed in a worker's peak RSS).
const LOAD_CHUNK: usize = 8;

/// Loads every script Redis does not know yet (done once at start-up so the
/// first calls do not pay for a NOSCRIPT round trip). One `SCRIPT EXISTS`
/// asks for all of them; when other processes loaded them already, no
/// source is sent.
pub(crate) async fn load_all(conn: &mut RedisConnection) -> Result<(), Error> {
    const OP: &str = "load_scripts";
    let scripts = SCRIPTS.all();
    let known: Vec<bool> = redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(
            scripts
                .iter()
                .map(|script| script.sha.as_str())
                .collect::<Vec<_>>(),
        )
        .query_async(conn)
        .await
        .map_err(Error::redis(OP))?;
    let missing: Vec<&LuaScript> = scripts
        .iter()
        .zip(known.iter().chain(std::iter::repeat(&false)))
        .filter(|(_, known)| !**known)
        .map(|(script, _)| *script)
        .collect();
    for chunk in missing.chunks(LOAD_CHUNK) {
        let mut pipe = redis::pipe();
        for script in chunk {
            pipe.cmd("SCRIPT").arg("LOAD").arg(script.source);
        }
        let shas: Vec<String> = pipe.query_async(conn).await.map_err(Error::redis(OP))?;
        for (sha, script) in shas.iter().zip(chunk) {
            if *sha != script.sha {
                return Err(Error::protocol(
                    OP,
                    format!(
                        "Redis returned SHA {sha} for script {}, expected {}",
                        script.name, script.sha
                    ),
                ));
            }
        }
    }
    Ok(())
}

async fn load(
    conn: &mut RedisConnection,
    script: &'static LuaScript,
    op: &'static str,
) -> Result<(), Error> {
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(script.source)
        .query_async::<String>(conn)
        .await
        .map(|_| ())
        .map_err(Error::redis(op))
}

fn is_noscript(error: &redis::RedisError) -> bool {
    error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

#[cfg(test)]
mod protocol_table {
    use std::collections::BTreeMap;

    use super::SCRIPTS;

    /// docs/protocol.md tells other languages which includes each script
    /// takes (its SHA is over them): the table must match the registry.
    #[test]
    fn the_protocol_doc_lists_every_scripts_includes() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
                .expect("docs/protocol.md");
        let mut documented: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let table = doc
            .split("| includes | scripts |")
            .nth(1)
            .expect("the table of includes in docs/protocol.md");
        for row in table
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
        {
            let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
            let names = |cell: &str| -> Vec<String> {
                cell.split(',')
                    .map(|part| {
                        let part = part.trim().trim_matches('`');
                        part.split_whitespace()
                            .next()
                            .unwrap_or("")
                            .trim_matches('`')
                            .trim_end_matches(".lua")
                            .to_owned()
                    })
                    .filter(|part| !part.is_empty())
                    .collect()
            };
            let includes = names(cells[0]);
            for script in names(cells[1]) {
                documented.insert(script, includes.clone());
            }
        }
        let registry: BTreeMap<String, Vec<String>> = SCRIPTS
            .all()
            .iter()
            .map(|script| {
                (
                    script.name.to_owned(),
                    script.includes.iter().map(|i| (*i).to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(
            documented, registry,
            "docs/protocol.md's table of includes is out of date"
        );
    }
}
