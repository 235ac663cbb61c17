//! Cluster safety of the Lua scripts, checked on their source: every key a
//! script touches must come from `KEYS` (Redis Cluster routes a script by
//! its declared keys; a key built inside Lua may live in another slot and
//! fails with CROSSSLOT — or, worse, works on one node and not on a
//! cluster). Together with `keys.rs` giving all keys of one queue the same
//! `{queue}` hash tag, this keeps every script on one slot.
//!
//! The check is textual: each `redis.call`/`redis.pcall` names its command;
//! for commands that take keys, the key arguments must be `KEYS[n]` (or
//! `KEYS[i]` in a loop over the declared keys) or a
//! `*_key` variable (the shared helpers in `include/lib.lua` take their keys as
//! such parameters, and callers pass `KEYS[n]`), or `unpack` of `KEYS` or
//! of a `*_keys` table filled from it, never a string literal or a
//! concatenation. New scripts are picked up automatically.
//!
//! One exception: `queue_key(base, suffix)` (include/keys.lua), where
//! `base` is `P:{Q}` cut from a declared key of the queue. It serves keyed
//! flow control, whose per-key lists and buckets cannot be declared by a
//! caller that does not know a job's key before the script reads it, and
//! the dead-lettering of a record whose id is taken (`bury_duplicate`: the
//! dead set, jobs hash and stats, on a path almost never taken that would
//! otherwise cost every fetch three more keys). Such a key carries the
//! queue's `{Q}` hash tag, so it is in the slot the script runs on, which
//! Redis Cluster allows for keys a script did not declare (tested on a
//! cluster in integration/tests/cluster.rs).
//!
//! A second, for the counters the scripts that end jobs write: the time
//! buckets `P:{Q}:stats:minute:<m>` and `P:{Q}:stats:day:<d>`, named from
//! the declared `P:{Q}:stats` and the Redis clock inside the script (the
//! caller cannot know the bucket the script's clock picks). They are built
//! only in `count_ended` (include/lib.lua), as `*_bucket_key` locals concatenated
//! onto `stats_key`; the last test checks no other `*_key` local is built
//! by concatenation (except through `queue_key`).

use std::path::Path;

/// Commands whose first argument is not a key.
const KEYLESS: [&str; 2] = ["TIME", "PUBLISH"];
/// Commands whose every argument is a key.
const ALL_KEYS: [&str; 5] = ["DEL", "UNLINK", "EXISTS", "TOUCH", "MGET"];

fn key_argument_ok(arg: &str) -> bool {
    let arg = arg.trim();
    // `KEYS[3]`, or `KEYS[i]` in a loop over declared keys.
    let from_keys = arg.starts_with("KEYS[")
        && arg.ends_with(']')
        && arg["KEYS[".len()..arg.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '-' || c == ' ');
    let key_variable =
        arg.ends_with("_key") && arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    // `unpack(KEYS)`, `unpack(KEYS, 2)`, or `unpack(lock_keys)`: a table
    // of declared keys.
    let unpacked = arg
        .strip_prefix("unpack(")
        .and_then(|rest| rest.strip_suffix(')'))
        .is_some_and(|inner| {
            let table = inner.split(',').next().unwrap_or("").trim();
            table == "KEYS"
                || (table.ends_with("_keys")
                    && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        });
    let same_queue =
        arg.starts_with("queue_key(base, ") || arg.starts_with("queue_key(flow_base(KEYS[");
    from_keys || key_variable || unpacked || same_queue
}

/// The argument list of the call starting at `source[start..]` (after
/// `redis.call(`), split at top-level commas.
fn arguments(source: &str) -> Vec<String> {
    let mut depth = 0usize;
    let mut args = vec![String::new()];
    for c in source.chars() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' if depth == 0 => break,
            ')' | '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = args.last_mut() {
            last.push(c);
        }
    }
    args
}

#[test]
fn every_key_a_script_touches_comes_from_keys() {
    let mut checked_calls = 0;
    let mut problems = Vec::new();
    for path in lua_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for marker in ["redis.call(", "redis.pcall("] {
            for (at, _) in source.match_indices(marker) {
                let args = arguments(&source[at + marker.len()..]);
                let command = args[0]
                    .trim()
                    .trim_matches('\'')
                    .trim_matches('"')
                    .to_uppercase();
                checked_calls += 1;
                if KEYLESS.contains(&command.as_str()) {
                    continue;
                }
                let keys: &[String] = if ALL_KEYS.contains(&command.as_str()) {
                    &args[1..]
                } else {
                    &args[1..args.len().min(2)]
                };
                for key in keys {
                    if !key_argument_ok(key) {
                        problems.push(format!("{name}: {command} on {:?}", key.trim()));
                    }
                }
            }
        }
    }
    assert!(
        checked_calls > 40,
        "found only {checked_calls} calls: is the scripts dir right?"
    );
    assert!(
        problems.is_empty(),
        "keys not taken from KEYS:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_catches_keys_built_inside_lua() {
    for bad in [
        "'jq:queues'",
        "KEYS[1] .. ':x'",
        "ARGV[1]",
        "prefix .. 'stats'",
        "unpack(ARGV)",
        "unpack(locks)",
        "unpack(KEYS_copy)",
    ] {
        assert!(!key_argument_ok(bad), "{bad}");
    }
    for good in [
        "KEYS[1]",
        " KEYS[12]",
        "ready_key",
        "queue_key(base, ':grun')",
        "unpack(KEYS)",
        "unpack(KEYS, 2)",
        "unpack(lock_keys)",
    ] {
        assert!(key_argument_ok(good), "{good}");
    }
    let args = arguments("'ZADD', KEYS[1], unpack(x, 2), y)");
    assert_eq!(args.len(), 4);
}

#[test]
fn keys_are_built_by_concatenation_only_for_the_stats_buckets() {
    let mut built = Vec::new();
    for path in lua_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        for line in source.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("local ") else {
                continue;
            };
            let Some((name, value)) = rest.split_once('=') else {
                continue;
            };
            // `queue_key(base, …)` is the flow-control exception above.
            let value = value.trim();
            if name.trim().ends_with("_key")
                && value.contains("..")
                && !value.starts_with("queue_key(")
            {
                built.push(format!("{}: {line}", path.display()));
            }
        }
    }
    assert_eq!(built.len(), 2, "{built:#?}");
    for line in &built {
        assert!(
            line.contains("include/lib.lua: local minute_bucket_key = stats_key .. ")
                || line.contains("include/lib.lua: local day_bucket_key = stats_key .. "),
            "a key built inside Lua: {line}"
        );
    }
}

/// Every Lua file: the transitions in `src/lua/` and the shared fragments
/// in `src/lua/include/`.
fn lua_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lua");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("include")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) == Some("lua") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
