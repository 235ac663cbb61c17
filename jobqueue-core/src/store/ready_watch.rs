//! [`ReadyWatch`]: an idle worker's blocking wait for a queue's ready list,
//! so the push of a job reaches it in the push's own hop.
//!
//! A worker that found a queue empty used to learn of the next job only
//! from the producer: the producer's `RPUSH` reply came back, the producer
//! then published `r` on the queue's events channel, Redis relayed it to
//! the worker, and the worker fetched — two extra one-way trips and a
//! producer task wake-up between the push and the fetch. A `ReadyWatch`
//! instead sits in `BLMOVE <ready> <ready> LEFT LEFT <timeout>` on a
//! connection of its own. Redis serves it inside the `RPUSH` that makes the
//! list non-empty, by any producer in any language (or a promotion, retry
//! or reclaim), and the worker's fetch follows at once.
//!
//! The move takes the list's head and puts it back at the head: the list
//! is unchanged. The record never leaves the ready list, so no new place a
//! job can be exists, no job can be stranded by a worker dying while it
//! waits, and the fetch that follows (`fetch.lua`) keeps every rule of
//! leasing — pause, priorities, duplicate ids, the event stream. Every
//! watching worker is woken by a push (Redis serves each client blocked on
//! the key before the push), just as every idle worker hears a published
//! `r`; one of them leases the job and the others find nothing.
//!
//! The connection is a [`RedisConnection`] of its own (one server, or a
//! Cluster connection, which reaches every primary and routes the wait to
//! the one holding the queue's slot; with the client's credentials), with
//! a response timeout that outlasts the block. Only its own re-`AUTH`
//! when credentials rotate waits behind a blocked command, at most one
//! block. Through Sentinel the worker does not watch (such a connection
//! would poll the sentinels every second on its own: see
//! `jobqueue-worker/src/loops/ready_watcher.rs`).
//!
//! Each served wait is a write: Redis propagates it to replicas and the
//! AOF as an `LMOVE` of the head onto itself (a no-op there too), and
//! sends the head record to each watcher, so a watched queue of very
//! large payloads costs that record's bytes per idle watcher per push.

use std::time::Duration;

use redis::Value;

use crate::error::Error;
use crate::store::conn::{ConnectionSettings, RedisConnection};
use crate::store::keys::QueueKeys;

/// A blocking wait for jobs on a queue's ready list (see the module docs).
#[derive(Debug)]
pub struct ReadyWatch {
    conn: RedisConnection,
    block: Duration,
}

impl ReadyWatch {
    /// Opens the watch's own connection to `url`; each wait blocks at most
    /// `block` (at least 10 ms, whole milliseconds).
    pub async fn open(
        url: &str,
        settings: ConnectionSettings,
        block: Duration,
    ) -> Result<Self, Error> {
        let block = block.max(Duration::from_millis(10));
        let settings = ConnectionSettings {
            response_timeout: settings.response_timeout + block,
            direct_lane: false,
            ..settings
        };
        let conn = RedisConnection::connect(url, settings).await?;
        Ok(Self { conn, block })
    }

    /// Waits until `queue`'s ready list holds a job or the block time
    /// passes. Returns the record at the head when woken (it stays there,
    /// for a fetch to lease), `None` when the time passed. Returns at
    /// once when the list is not empty.
    pub async fn wait(&mut self, queue: &QueueKeys) -> Result<Option<Vec<u8>>, Error> {
        let seconds = self.block.as_millis() as f64 / 1000.0;
        let reply: Value = redis::cmd("BLMOVE")
            .arg(queue.ready())
            .arg(queue.ready())
            .arg("LEFT")
            .arg("LEFT")
            .arg(seconds)
            .query_async(&mut self.conn)
            .await
            .map_err(Error::redis("watch_ready"))?;
        match reply {
            Value::Nil => Ok(None),
            Value::BulkString(record) => Ok(Some(record)),
            other => Err(Error::protocol(
                "watch_ready",
                format!("unexpected BLMOVE reply {other:?}"),
            )),
        }
    }
}

/// How a failed [`ReadyWatch::wait`] should be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchFailure {
    /// Redis refuses `BLMOVE` itself (an ACL without it, a server without
    /// it): waiting again cannot succeed; stop watching.
    Refused,
    /// Redis answered with another error (out of memory, a read-only
    /// replica, …): the connection is fine; wait again later.
    Answered,
    /// No usable reply (the connection dropped, a timeout): reconnect.
    Lost,
}

impl WatchFailure {
    /// Classifies an error from [`ReadyWatch::wait`].
    pub fn of(error: &Error) -> Self {
        let Error::Redis { source, .. } = error else {
            return WatchFailure::Lost;
        };
        match source.code() {
            Some("NOPERM") => WatchFailure::Refused,
            Some("ERR")
                if source
                    .detail()
                    .is_some_and(|detail| detail.contains("unknown command")) =>
            {
                WatchFailure::Refused
            }
            Some(_) => WatchFailure::Answered,
            None => WatchFailure::Lost,
        }
    }
}
