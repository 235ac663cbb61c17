//! Pipelines on a Redis Cluster.
//!
//! redis-rs sends a cluster pipeline to one node and refuses one whose
//! commands name keys in different slots (CROSSSLOT); it also hands back,
//! without retrying, the MOVED/ASK replies of commands inside a pipeline.
//! Our pipelines are batches of independent commands (completions of
//! several queues, a queue overview, a heartbeat with its global keys), so
//! here a non-atomic pipeline is split by slot: the commands of each slot
//! keep their order in one sub-pipeline, the sub-pipelines run
//! concurrently, and the replies are put back in the caller's order.
//! Commands without a key (`SCRIPT LOAD`, `TIME`, `PUBLISH`, …) go one by
//! one so redis-rs routes each (`SCRIPT LOAD` to every node).
//!
//! A command refused with a redirection or a "not now" error (MOVED, ASK,
//! TRYAGAIN, CLUSTERDOWN, MASTERDOWN, READONLY) was not executed, so it is
//! safe to send again: it is repeated alone, where redis-rs follows the
//! redirection, refreshes its slot map and retries with backoff.

use std::collections::HashMap;

use futures_util::future::try_join_all;
use redis::aio::ConnectionLike;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{Cmd, Pipeline, RedisResult, ServerError, ServerErrorKind, Value};

/// Runs `pipeline` on the cluster; returns the `count` replies from `offset`.
pub(crate) async fn run(
    conn: &mut ClusterConnection,
    pipeline: &Pipeline,
    offset: usize,
    count: usize,
) -> RedisResult<Vec<Value>> {
    // A transaction must be one slot anyway; redis-rs checks and routes it.
    if pipeline.is_transaction() {
        return conn.req_packed_commands(pipeline, offset, count).await;
    }
    let commands: Vec<&Cmd> = pipeline.cmd_iter().collect();
    let groups = group_by_slot(&commands);
    let replies = try_join_all(groups.iter().map(|group| {
        let mut conn = conn.clone();
        let commands = &commands;
        async move { run_group(&mut conn, commands, group).await }
    }))
    .await?;
    let mut ordered = vec![Value::Nil; commands.len()];
    for (group, group_replies) in groups.iter().zip(replies) {
        for (&index, reply) in group.iter().zip(group_replies) {
            ordered[index] = reply;
        }
    }
    Ok(ordered.into_iter().skip(offset).take(count).collect())
}

/// Indices of the commands, grouped by slot in first-seen order; each
/// keyless command is a group of its own.
fn group_by_slot(commands: &[&Cmd]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_slot: HashMap<Slot, usize> = HashMap::new();
    for (index, cmd) in commands.iter().enumerate() {
        match routing_key(cmd) {
            Some(key) => {
                let slot = Slot::for_key(key);
                let group = *group_of_slot.entry(slot).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[group].push(index);
            }
            None => groups.push(vec![index]),
        }
    }
    groups
}

async fn run_group(
    conn: &mut ClusterConnection,
    commands: &[&Cmd],
    group: &[usize],
) -> RedisResult<Vec<Value>> {
    let mut replies = if let [index] = group {
        vec![single(conn, commands[*index]).await?]
    } else {
        let mut sub = redis::pipe();
        for &index in group {
            sub.add_command(commands[index].clone());
        }
        conn.req_packed_commands(&sub, 0, group.len()).await?
    };
    for (reply, &index) in replies.iter_mut().zip(group) {
        if let Value::ServerError(err) = reply
            && was_not_executed(err)
        {
            *reply = single(conn, commands[index]).await?;
        }
    }
    Ok(replies)
}

/// Sends one command with redis-rs's routing and retries; a server error
/// becomes an error reply, as it would inside a pipeline.
async fn single(conn: &mut ClusterConnection, cmd: &Cmd) -> RedisResult<Value> {
    match conn.req_packed_command(cmd).await {
        Ok(value) => Ok(value),
        Err(err) => match ServerError::try_from(err) {
            Ok(server_error) => Ok(Value::ServerError(server_error)),
            Err(err) => Err(err),
        },
    }
}

fn was_not_executed(err: &ServerError) -> bool {
    matches!(
        err.kind(),
        Some(
            ServerErrorKind::Moved
                | ServerErrorKind::Ask
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::ReadOnly
        )
    )
}

/// The key that decides a command's slot, or `None` for a command that
/// names no key. Covers the commands jobqueue sends: scripts (`EVALSHA sha
/// numkeys key …`) and single-key data commands (`HSET key …`).
fn routing_key(cmd: &Cmd) -> Option<&[u8]> {
    let mut args = cmd.args_iter().map(|arg| match arg {
        redis::Arg::Simple(bytes) => bytes,
        _ => &b""[..],
    });
    let name = args.next()?;
    if name.eq_ignore_ascii_case(b"EVALSHA") || name.eq_ignore_ascii_case(b"EVAL") {
        let _script = args.next()?;
        let numkeys = args.next()?;
        return (numkeys != b"0").then(|| args.next()).flatten();
    }
    const KEYLESS: [&[u8]; 9] = [
        b"SCRIPT", b"TIME", b"PING", b"INFO", b"PUBLISH", b"CLUSTER", b"CONFIG", b"CLIENT", b"WAIT",
    ];
    if KEYLESS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
        return None;
    }
    args.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evalsha(keys: &[&str]) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg("abc").arg(keys.len());
        for key in keys {
            cmd.arg(*key);
        }
        cmd.arg("argv");
        cmd
    }

    #[test]
    fn scripts_route_by_their_first_key_and_keyless_commands_alone() {
        let a1 = evalsha(&["jq:{a}:ready", "jq:{a}:leases"]);
        let b = evalsha(&["jq:{b}:ready"]);
        let a2 = redis::cmd("HINCRBY")
            .arg("jq:{a}:stats")
            .arg("x")
            .arg(1)
            .clone();
        let load = redis::cmd("SCRIPT").arg("LOAD").arg("return 1").clone();
        let keyless_script = evalsha(&[]);
        assert_eq!(routing_key(&a1), Some(&b"jq:{a}:ready"[..]));
        assert_eq!(routing_key(&load), None);
        assert_eq!(routing_key(&keyless_script), None);
        let commands = [&a1, &b, &load, &a2, &keyless_script];
        assert_eq!(
            group_by_slot(&commands),
            vec![vec![0, 3], vec![1], vec![2], vec![4]]
        );
    }
}
