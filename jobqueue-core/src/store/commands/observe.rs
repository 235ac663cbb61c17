//! A queue's watch switches (`P:{Q}:observe`) and the raw reads of what
//! they turn on: the live event stream (`P:{Q}:event_stream`) and the
//! history of finished jobs (`P:{Q}:history`). The scripts that start and
//! end jobs write both (`lua/include/observe.lua`); this module switches
//! them, reads them, and writes the two kinds of event no script sees
//! (`enqueued`, from the producer, and `progress`, from the running job).
//!
//! Those two are written by the process, which reads the queue's switch at
//! most once a second ([`SWITCH_REFRESH`]) and caches it: with events off,
//! an enqueue or a progress report costs one `HGET` a second per queue,
//! and for up to a second after the switch is turned on a producer may not
//! yet write `enqueued` events (docs/search-logs-events.md).

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
pub use crate::store::switch_cache::SWITCH_REFRESH;

/// Entries kept in a queue's event stream when switched on without a cap.
pub const DEFAULT_EVENT_STREAM_CAP: u64 = 10_000;

/// Entries kept in a queue's history when switched on without a cap.
pub const DEFAULT_HISTORY_CAP: u64 = 100_000;

/// The hard cap of a history whose exporter falls behind, as a multiple of
/// its cap, unless set.
pub const DEFAULT_HISTORY_MAX_FACTOR: u64 = 10;

/// Most entries one read of a stream returns.
pub const MAX_STREAM_READ: usize = 1000;

/// A queue's watch settings and the history's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WatchSettings {
    /// Most entries kept in the event stream; `None`: events are off.
    pub events_cap: Option<u64>,
    /// Most entries kept in the history; `None`: history is off.
    pub history_cap: Option<u64>,
    /// The history's hard cap while an exporter is behind.
    pub history_max: Option<u64>,
    /// History entries appended so far.
    pub history_added: u64,
    /// History entries trimmed at the hard cap before an exporter wrote
    /// them (never silently: counted here).
    pub history_lost: u64,
}

/// One entry of a Redis stream: its id and its fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry id, `<ms>-<seq>`.
    pub id: String,
    /// Field/value pairs.
    pub fields: Vec<(String, String)>,
}

impl StreamEntry {
    /// The value of `field`, or "" when absent.
    pub fn field(&self, field: &str) -> &str {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map_or("", |(_, value)| value.as_str())
    }

    /// The entry's time: the ms part of its id.
    pub fn millis(&self) -> i64 {
        self.id
            .split('-')
            .next()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0)
    }
}

fn parse_cap(value: Option<String>) -> Option<u64> {
    value.and_then(|v| v.parse().ok())
}

impl Store {
    /// `queue`'s watch settings.
    pub async fn watch_settings(&self, queue: &QueueKeys) -> Result<WatchSettings, Error> {
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(queue.observe())
            .arg(&[
                "events",
                "history",
                "history_max",
                "history_added",
                "history_lost",
            ])
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("watch_settings"))?;
        let mut values = values.into_iter();
        let mut next = || values.next().flatten();
        Ok(WatchSettings {
            events_cap: parse_cap(next()),
            history_cap: parse_cap(next()),
            history_max: parse_cap(next()),
            history_added: parse_cap(next()).unwrap_or(0),
            history_lost: parse_cap(next()).unwrap_or(0),
        })
    }

    /// Turns `queue`'s event stream on, keeping about `cap` entries
    /// (at least 100), or off (`None`), which also deletes the stream.
    pub async fn set_event_stream(&self, queue: &QueueKeys, cap: Option<u64>) -> Result<(), Error> {
        let mut pipe = redis::pipe();
        match cap {
            Some(cap) => pipe
                .cmd("HSET")
                .arg(queue.observe())
                .arg("events")
                .arg(cap.max(100)),
            None => pipe
                .cmd("HDEL")
                .arg(queue.observe())
                .arg("events")
                .ignore()
                .cmd("DEL")
                .arg(queue.event_stream()),
        };
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_event_stream"))?;
        self.switches
            .remember(queue.name(), cap.map(|cap| cap.max(100)));
        Ok(())
    }

    /// Turns `queue`'s history on, keeping `cap` entries (at least 100)
    /// and at most `max` while an exporter is behind (default ten times
    /// `cap`), or off (`None`): no more entries are appended; those kept
    /// stay until [`Store::drop_history`].
    pub async fn set_history(
        &self,
        queue: &QueueKeys,
        cap: Option<u64>,
        max: Option<u64>,
    ) -> Result<(), Error> {
        let mut cmd = redis::cmd("HSET");
        match cap {
            Some(cap) => {
                let cap = cap.max(100);
                let max = max.unwrap_or(cap * DEFAULT_HISTORY_MAX_FACTOR).max(cap);
                cmd.arg(queue.observe())
                    .arg("history")
                    .arg(cap)
                    .arg("history_max")
                    .arg(max);
            }
            None => {
                cmd = redis::cmd("HDEL");
                cmd.arg(queue.observe()).arg("history").arg("history_max");
            }
        }
        cmd.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("set_history"))
    }

    /// Deletes `queue`'s history and its exporter's progress.
    pub async fn drop_history(&self, queue: &QueueKeys) -> Result<(), Error> {
        redis::cmd("DEL")
            .arg(queue.history())
            .arg(queue.history_export())
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("drop_history"))
    }

    /// `queue`'s event-stream cap as this process last read it (refreshed
    /// when older than [`SWITCH_REFRESH`]); `None` when events are off.
    pub async fn event_stream_cap(&self, queue: &QueueKeys) -> Result<Option<u64>, Error> {
        if let Some(cap) = self.switches.fresh(queue.name()) {
            return Ok(cap);
        }
        let cap: Option<String> = redis::cmd("HGET")
            .arg(queue.observe())
            .arg("events")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("event_stream_cap"))?;
        let cap = parse_cap(cap);
        self.switches.remember(queue.name(), cap);
        Ok(cap)
    }

    /// Appends one event-stream entry of `kind` for jobs `ids` with extra
    /// fields, when `queue`'s events are on (the format of
    /// `lua/include/observe.lua`). For the events no script sees:
    /// `enqueued` and `progress`.
    pub async fn emit_events(
        &self,
        queue: &QueueKeys,
        kind: &str,
        ids: &[String],
        extra: &[(&str, &str)],
    ) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let Some(cap) = self.event_stream_cap(queue).await? else {
            return Ok(());
        };
        let mut cmd = redis::cmd("XADD");
        cmd.arg(queue.event_stream())
            .arg("MAXLEN")
            .arg("~")
            .arg(cap)
            .arg("*")
            .arg("k")
            .arg(kind)
            .arg("ids")
            .arg(ids.join(" "));
        for (field, value) in extra {
            cmd.arg(*field).arg(*value);
        }
        cmd.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(Error::redis("emit_events"))
    }

    /// Up to `count` (at most [`MAX_STREAM_READ`]) entries of the stream
    /// `key` with ids in `[from, to]` (`-`/`+` for either end; a leading
    /// `(` excludes the id), oldest first.
    pub async fn stream_range(
        &self,
        key: &str,
        from: &str,
        to: &str,
        count: usize,
    ) -> Result<Vec<StreamEntry>, Error> {
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(key)
            .arg(from)
            .arg(to)
            .arg("COUNT")
            .arg(count.clamp(1, MAX_STREAM_READ))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("stream_range"))?;
        Ok(entries
            .into_iter()
            .map(|(id, fields)| StreamEntry { id, fields })
            .collect())
    }

    /// As [`Store::stream_range`], newest first (`XREVRANGE`, `to` then
    /// `from`).
    pub async fn stream_range_newest_first(
        &self,
        key: &str,
        to: &str,
        from: &str,
        count: usize,
    ) -> Result<Vec<StreamEntry>, Error> {
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
            .arg(key)
            .arg(to)
            .arg(from)
            .arg("COUNT")
            .arg(count.clamp(1, MAX_STREAM_READ))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("stream_range_newest_first"))?;
        Ok(entries
            .into_iter()
            .map(|(id, fields)| StreamEntry { id, fields })
            .collect())
    }

    /// The number of entries in the stream `key`.
    pub async fn stream_length(&self, key: &str) -> Result<u64, Error> {
        redis::cmd("XLEN")
            .arg(key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(Error::redis("stream_length"))
    }
}
