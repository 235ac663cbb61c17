//! A queue's live lifecycle events, typed: read from its capped event
//! stream (`P:{Q}:event_stream`, written by the scripts that start and end
//! jobs, `lua/include/observe.lua`), resumable from any event's id.
//!
//! An entry of the stream holds every job one script call moved (a fetch
//! of 50 jobs is one entry), so a reader expands it into one [`JobEvent`]
//! per job; an event's [`EventId`] is the entry's id and the event's
//! position in that expansion. A failed attempt with a retry ahead is two
//! events per job (`failed`, then `retrying`), as is a death (`failed`,
//! then `dead`).
//!
//! Events are off by default: [`Admin::set_event_stream`] turns them on
//! per queue. Reading never blocks a connection: [`Admin::events_after`]
//! is one `XRANGE`; [`crate::Client::events`] polls it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::admin::Admin;
use crate::error::Error;
use crate::store::commands::observe::{MAX_STREAM_READ, StreamEntry};

/// Where an event is in its queue's stream: the entry id and the event's
/// position in the entry. Written `<ms>-<seq>.<position>`; events of one
/// queue are ordered by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    ms: u64,
    seq: u64,
    position: u32,
}

impl EventId {
    /// The stream entry id, `<ms>-<seq>`.
    fn entry(&self) -> String {
        format!("{}-{}", self.ms, self.seq)
    }

    /// The position just before the first event of the entry `<ms>-<seq>`.
    fn parse_entry(entry: &str) -> Option<(u64, u64)> {
        let (ms, seq) = entry.split_once('-')?;
        Some((ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}.{}", self.ms, self.seq, self.position)
    }
}

impl FromStr for EventId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::invalid("event id", format!("not an event id: {text:?}"));
        let (entry, position) = text.split_once('.').ok_or_else(invalid)?;
        let (ms, seq) = Self::parse_entry(entry).ok_or_else(invalid)?;
        Ok(Self {
            ms,
            seq,
            position: position.parse().map_err(|_| invalid())?,
        })
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What happened to a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobEventKind {
    /// A producer enqueued it.
    Enqueued,
    /// A worker leased it and is about to run it.
    Started,
    /// The running job reported progress.
    Progress {
        /// 0-100.
        percent: u8,
        /// The job's message.
        message: String,
    },
    /// It succeeded.
    Succeeded,
    /// An attempt failed.
    Failed {
        /// True when a retry follows (`retrying`), false when it is dead.
        will_retry: bool,
    },
    /// It waits for a later run after a failed attempt.
    Retrying {
        /// When it is due again.
        #[serde(serialize_with = "crate::json_time::datetime")]
        run_at: DateTime<Utc>,
    },
    /// It asked to run again later (a snooze: no attempt spent).
    Snoozed {
        /// When it is due again.
        #[serde(serialize_with = "crate::json_time::datetime")]
        run_at: DateTime<Utc>,
    },
    /// It went to the dead set.
    Dead,
    /// An operator or its batch cancelled it.
    Cancelled,
    /// It expired before it could start.
    Expired,
}

impl JobEventKind {
    /// The kind's name, as in the JSON (`"succeeded"`).
    pub fn name(&self) -> &'static str {
        match self {
            JobEventKind::Enqueued => "enqueued",
            JobEventKind::Started => "started",
            JobEventKind::Progress { .. } => "progress",
            JobEventKind::Succeeded => "succeeded",
            JobEventKind::Failed { .. } => "failed",
            JobEventKind::Retrying { .. } => "retrying",
            JobEventKind::Snoozed { .. } => "snoozed",
            JobEventKind::Dead => "dead",
            JobEventKind::Cancelled => "cancelled",
            JobEventKind::Expired => "expired",
        }
    }
}

/// One lifecycle event of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobEvent {
    /// Its place in the queue's stream; resume after it with
    /// [`Admin::events_after`] or [`crate::Client::events_from`].
    pub id: EventId,
    /// The job's queue.
    pub queue: String,
    /// The job.
    pub job_id: Uuid,
    /// When it happened, on the Redis clock.
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub kind: JobEventKind,
}

/// A page of events read from a queue's stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventPage {
    /// The events after the position asked for, oldest first.
    pub events: Vec<JobEvent>,
    /// Where the next read starts (the last event's id, or the position
    /// asked for when nothing new came; `None`: at the oldest event).
    pub next: Option<EventId>,
    /// True when the position asked for is no longer in the stream (it
    /// was trimmed at the cap, or events were switched off and on): some
    /// events after it may be missing.
    pub missed: bool,
}

/// Where [`Admin::events_after`] starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStart {
    /// The oldest event the stream still holds.
    Oldest,
    /// Only events after this call (`$`).
    Now,
    /// Events after this one.
    After(EventId),
}

fn millis_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The events of one stream entry, in order (see the module docs).
fn expand(queue: &str, entry: &StreamEntry) -> Vec<JobEvent> {
    let Some((ms, seq)) = EventId::parse_entry(&entry.id) else {
        return Vec::new();
    };
    let at = millis_time(i64::try_from(ms).unwrap_or(i64::MAX));
    let due: Vec<DateTime<Utc>> = entry
        .field("at")
        .split(' ')
        .map(|ms| millis_time(ms.parse().unwrap_or(0)))
        .collect();
    let kinds = |n: usize| -> Vec<JobEventKind> {
        let run_at = due.get(n).copied().unwrap_or(at);
        match entry.field("k") {
            "enqueued" => vec![JobEventKind::Enqueued],
            "started" => vec![JobEventKind::Started],
            "progress" => vec![JobEventKind::Progress {
                percent: entry.field("percent").parse().unwrap_or(0),
                message: entry.field("message").to_owned(),
            }],
            "succeeded" => vec![JobEventKind::Succeeded],
            "retrying" => vec![
                JobEventKind::Failed { will_retry: true },
                JobEventKind::Retrying { run_at },
            ],
            "snoozed" => vec![JobEventKind::Snoozed { run_at }],
            "dead" => vec![
                JobEventKind::Failed { will_retry: false },
                JobEventKind::Dead,
            ],
            "cancelled" => vec![JobEventKind::Cancelled],
            "expired" => vec![JobEventKind::Expired],
            _ => Vec::new(),
        }
    };
    let mut events = Vec::new();
    for (n, job) in entry.field("ids").split(' ').enumerate() {
        let Ok(job_id) = Uuid::parse_str(job) else {
            continue;
        };
        for kind in kinds(n) {
            let position = u32::try_from(events.len()).unwrap_or(u32::MAX);
            events.push(JobEvent {
                id: EventId { ms, seq, position },
                queue: queue.to_owned(),
                job_id,
                at,
                kind,
            });
        }
    }
    events
}

impl Admin {
    /// Turns `queue`'s live event stream on, keeping about `cap` entries
    /// (one entry per script call: a fetch or acknowledgement of many jobs
    /// is one), or off (`None`), which deletes it. Recorded in the audit
    /// log by the dashboard and CLI that call it.
    ///
    /// ```no_run
    /// # async fn demo(admin: jobqueue_core::Admin) -> Result<(), jobqueue_core::Error> {
    /// admin.set_event_stream("mail", Some(10_000)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_event_stream(&self, queue: &str, cap: Option<u64>) -> Result<(), Error> {
        let q = self.store.queue_keys(queue)?;
        self.store.set_event_stream(&q, cap).await
    }

    /// Up to about `limit` events of `queue` from `start`, oldest first
    /// (whole stream entries: a page may hold a few more). One `XRANGE`:
    /// never blocks.
    pub async fn events_after(
        &self,
        queue: &str,
        start: EventStart,
        limit: usize,
    ) -> Result<EventPage, Error> {
        let q = self.store.queue_keys(queue)?;
        let key = q.event_stream();
        let after = match start {
            EventStart::After(id) => Some(id),
            EventStart::Oldest => None,
            EventStart::Now => {
                let newest = self
                    .store
                    .stream_range_newest_first(&key, "+", "-", 1)
                    .await?;
                let next = newest.first().and_then(|entry| {
                    let events = expand(queue, entry);
                    events.last().map(|event| event.id)
                });
                return Ok(EventPage {
                    events: Vec::new(),
                    next,
                    missed: false,
                });
            }
        };
        let from = after.map_or_else(|| "-".to_owned(), |id| id.entry());
        let entries = self
            .store
            .stream_range(&key, &from, "+", limit.clamp(1, MAX_STREAM_READ))
            .await?;
        let missed = after.is_some_and(|id| entries.first().is_none_or(|e| e.id != id.entry()))
            && match after {
                // Nothing newer and the position's entry gone: the stream
                // was trimmed past it or dropped.
                Some(id) => self.event_position_gone(&key, &id).await?,
                None => false,
            };
        let mut events = Vec::new();
        for entry in &entries {
            events.extend(
                expand(queue, entry)
                    .into_iter()
                    .filter(|event| after.is_none_or(|id| event.id > id)),
            );
        }
        // After a miss with nothing newer, the next read starts at the
        // oldest entry (and reports no miss again).
        let next = events
            .last()
            .map(|event| event.id)
            .or(if missed { None } else { after });
        Ok(EventPage {
            events,
            next,
            missed,
        })
    }

    /// True when the entry of `id` is older than the oldest entry the
    /// stream holds, or the stream is empty while `id` was read from it.
    async fn event_position_gone(&self, key: &str, id: &EventId) -> Result<bool, Error> {
        let oldest = self.store.stream_range(key, "-", "+", 1).await?;
        Ok(match oldest.first() {
            Some(entry) => {
                EventId::parse_entry(&entry.id).is_some_and(|(ms, seq)| (ms, seq) > (id.ms, id.seq))
            }
            None => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, fields: &[(&str, &str)]) -> StreamEntry {
        StreamEntry {
            id: id.to_owned(),
            fields: fields
                .iter()
                .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    const A: &str = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9d";
    const B: &str = "0192f0c4-8a1e-7c3b-9d2a-4f5e6a7b8c9e";

    #[test]
    fn an_entry_expands_to_one_event_per_job_in_order() {
        let events = expand(
            "mail",
            &entry(
                "1700000000000-3",
                &[("k", "started"), ("ids", &format!("{A} {B}"))],
            ),
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].job_id.to_string(), A);
        assert_eq!(events[1].job_id.to_string(), B);
        assert_eq!(events[1].id.to_string(), "1700000000000-3.1");
        assert!(events.iter().all(|e| e.kind == JobEventKind::Started));
        assert_eq!(events[0].at.timestamp_millis(), 1_700_000_000_000);
    }

    #[test]
    fn a_retry_is_a_failure_then_a_retry_with_its_due_time() {
        let events = expand(
            "mail",
            &entry(
                "1700000000000-0",
                &[
                    ("k", "retrying"),
                    ("ids", &format!("{A} {B}")),
                    ("at", "1700000005000 1700000009000"),
                ],
            ),
        );
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
        assert_eq!(kinds, ["failed", "retrying", "failed", "retrying"]);
        assert_eq!(
            events[3].kind,
            JobEventKind::Retrying {
                run_at: millis_time(1_700_000_009_000)
            }
        );
        assert_eq!(events[2].job_id.to_string(), B);
    }

    #[test]
    fn unknown_kinds_and_bad_ids_are_skipped() {
        assert!(expand("q", &entry("1-0", &[("k", "teleported"), ("ids", A)])).is_empty());
        assert_eq!(
            expand("q", &entry("1-0", &[("k", "dead"), ("ids", "x y")])).len(),
            0
        );
    }

    #[test]
    fn event_ids_round_trip_and_order() {
        let id: EventId = "1700000000000-3.7".parse().unwrap();
        assert_eq!(id.to_string(), "1700000000000-3.7");
        let later: EventId = "1700000000000-4.0".parse().unwrap();
        assert!(later > id);
        assert!("1700000000000-3".parse::<EventId>().is_err());
        assert!("x-3.1".parse::<EventId>().is_err());
    }
}
