//! The history of a queue's finished jobs (`P:{Q}:history`): one entry
//! per job that succeeded, died, was cancelled or expired, written by the
//! script that ended it while the queue's history is on
//! (`lua/include/observe.lua`), capped, and exported as NDJSON by a
//! registered exporter before it is trimmed (`jobqueue history export`).
//!
//! "Did job X, or a job tagged Y, run on date D?" is a bounded scan of
//! that day's entries (stream ids are times, so a day is an id range):
//! [`Admin::history_search`] reads at most a budget of entries per call
//! and returns a cursor to go on, like the field search.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::admin::Admin;
use crate::admin::filter::error_fingerprint;
use crate::error::Error;
use crate::store::commands::observe::{MAX_STREAM_READ, StreamEntry, WatchSettings};
pub use crate::store::ops::history_export::ExportCursor;

/// Entries one history search reads unless told otherwise.
pub const DEFAULT_HISTORY_BUDGET: usize = 10_000;

/// Most entries one history search reads.
pub const MAX_HISTORY_BUDGET: usize = 100_000;

/// One finished job, as its history entry tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// The entry's id in the history stream (`<ms>-<seq>`).
    pub entry_id: String,
    /// The job's queue.
    pub queue: String,
    /// The job's id.
    pub job_id: String,
    /// The job type.
    pub job_type: String,
    /// How it ended: `succeeded`, `dead`, `cancelled` or `expired`.
    pub outcome: String,
    /// When it was enqueued (its UUID v7 time).
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub enqueued_at: DateTime<Utc>,
    /// When it was due, if it was scheduled or retried.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub run_at: Option<DateTime<Utc>>,
    /// When it ended, on the Redis clock.
    #[serde(serialize_with = "crate::json_time::datetime")]
    pub finished_at: DateTime<Utc>,
    /// Runs it made.
    pub attempts: u32,
    /// Its last error message (cut at 300 bytes), if it failed before.
    pub error: Option<String>,
    /// The fingerprint of that error ([`error_fingerprint`]), which groups
    /// the same failure across jobs.
    pub error_fingerprint: Option<String>,
    /// The trace id of the producer's span, if it sent one.
    pub trace_id: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// What a history search keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Entries of this job id, or ids starting with it.
    pub job_id: Option<String>,
    /// Entries of jobs carrying this tag.
    pub tag: Option<String>,
    /// Entries of this job type.
    pub job_type: Option<String>,
    /// Entries with this outcome.
    pub outcome: Option<String>,
}

impl HistoryFilter {
    fn keeps(&self, entry: &HistoryEntry) -> bool {
        self.job_id
            .as_ref()
            .is_none_or(|id| entry.job_id.starts_with(id.as_str()))
            && self.tag.as_ref().is_none_or(|tag| entry.tags.contains(tag))
            && self
                .job_type
                .as_ref()
                .is_none_or(|job_type| entry.job_type == *job_type)
            && self
                .outcome
                .as_ref()
                .is_none_or(|outcome| entry.outcome == *outcome)
    }
}

/// One page of a history search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    /// The matching entries, oldest first.
    pub entries: Vec<HistoryEntry>,
    /// Entries read by this call.
    pub scanned: usize,
    /// Where to go on (pass it back as `cursor`), or `None` when the
    /// range has been read to its end.
    pub next_cursor: Option<String>,
}

/// A queue's history settings and exporter, as the operator sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryStatus {
    /// The switches and counters.
    #[serde(flatten)]
    pub settings: WatchSettings,
    /// Entries kept now.
    pub kept: u64,
    /// The oldest entry kept, when any.
    #[serde(serialize_with = "crate::json_time::optional_datetime")]
    pub oldest: Option<DateTime<Utc>>,
    /// The registered exporter's cursor, when one is registered.
    pub export_cursor: Option<String>,
    /// Entries appended that the exporter has not written yet.
    pub unexported: Option<u64>,
}

fn millis_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The entry's last error text, read back from the JSON string text the
/// script stored: a cut at 300 bytes may have split an escape or a
/// character, so a few bytes are dropped until it reads.
fn error_text(stored: &str) -> Option<String> {
    if stored.is_empty() {
        return None;
    }
    let mut text = stored;
    loop {
        if let Ok(message) = serde_json::from_str::<String>(&format!("\"{text}\"")) {
            return Some(message);
        }
        let mut end = text.len().checked_sub(1)?;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
        if stored.len() - text.len() > 8 {
            return Some(String::from_utf8_lossy(stored.as_bytes()).into_owned());
        }
    }
}

/// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
fn trace_id(traceparent: &str) -> Option<String> {
    let trace = traceparent.split('-').nth(1)?;
    (trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit())).then(|| trace.to_owned())
}

/// Reads one history entry (the fields of `lua/include/observe.lua`).
pub fn history_entry(queue: &str, entry: &StreamEntry) -> HistoryEntry {
    let millis = |field: &str| entry.field(field).parse::<i64>().ok().map(millis_time);
    let job_type = entry.field("type").to_owned();
    let error = error_text(entry.field("err"));
    HistoryEntry {
        entry_id: entry.id.clone(),
        queue: queue.to_owned(),
        job_id: entry.field("id").to_owned(),
        error_fingerprint: error
            .as_deref()
            .map(|message| error_fingerprint(&job_type, message)),
        job_type,
        outcome: entry.field("out").to_owned(),
        enqueued_at: millis("enq").unwrap_or_default(),
        run_at: millis("run"),
        finished_at: millis("fin").unwrap_or_else(|| millis_time(entry.millis())),
        attempts: entry.field("att").parse().unwrap_or(0),
        error,
        trace_id: trace_id(entry.field("tp")),
        tags: serde_json::from_str(entry.field("tags")).unwrap_or_default(),
    }
}

/// The stream id range of UTC day `date`.
pub fn day_range(date: NaiveDate) -> (String, String) {
    let start = date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    (
        format!("{start}-0"),
        format!("{}-18446744073709551615", start + 86_400_000 - 1),
    )
}

impl Admin {
    /// Turns `queue`'s history on, keeping `cap` entries (at least 100)
    /// and at most `max` while a registered exporter is behind (default
    /// ten times `cap`), or off (`None`; what is kept stays).
    ///
    /// ```no_run
    /// # async fn demo(admin: jobqueue_core::Admin) -> Result<(), jobqueue_core::Error> {
    /// admin.set_history("mail", Some(100_000), None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_history(
        &self,
        queue: &str,
        cap: Option<u64>,
        max: Option<u64>,
    ) -> Result<(), Error> {
        let q = self.store.queue_keys(queue)?;
        self.store.set_history(&q, cap, max).await
    }

    /// `queue`'s watch switches and history counters.
    pub async fn watch_settings(&self, queue: &str) -> Result<WatchSettings, Error> {
        let q = self.store.queue_keys(queue)?;
        self.store.watch_settings(&q).await
    }

    /// `queue`'s history: switches, what is kept, the exporter's progress.
    pub async fn history_status(&self, queue: &str) -> Result<HistoryStatus, Error> {
        let q = self.store.queue_keys(queue)?;
        let settings = self.store.watch_settings(&q).await?;
        let kept = self.store.stream_length(&q.history()).await?;
        let oldest = self
            .store
            .stream_range(&q.history(), "-", "+", 1)
            .await?
            .first()
            .map(|entry| millis_time(entry.millis()));
        let export: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(q.history_export())
            .arg("cursor")
            .arg("exported")
            .query_async(&mut self.store.connection())
            .await
            .map_err(Error::redis("history_status"))?;
        let cursor = export.first().cloned().flatten();
        let exported = export
            .get(1)
            .cloned()
            .flatten()
            .and_then(|n| n.parse::<u64>().ok());
        Ok(HistoryStatus {
            unexported: cursor
                .as_ref()
                .map(|_| settings.history_added.saturating_sub(exported.unwrap_or(0))),
            export_cursor: cursor,
            settings,
            kept,
            oldest,
        })
    }

    /// The entries of `queue`'s history that finished on UTC day `date`
    /// and match `filter`, reading at most `budget` entries (capped at
    /// [`MAX_HISTORY_BUDGET`]) from `cursor` (a page's `next_cursor`).
    pub async fn history_search(
        &self,
        queue: &str,
        date: NaiveDate,
        filter: &HistoryFilter,
        cursor: Option<&str>,
        budget: usize,
    ) -> Result<HistoryPage, Error> {
        let q = self.store.queue_keys(queue)?;
        let (day_start, day_end) = day_range(date);
        let mut from = match cursor {
            Some(cursor) => {
                valid_entry_id(cursor)?;
                format!("({cursor}")
            }
            None => day_start,
        };
        let budget = budget.clamp(1, MAX_HISTORY_BUDGET);
        let mut page = HistoryPage {
            entries: Vec::new(),
            scanned: 0,
            next_cursor: None,
        };
        while page.scanned < budget {
            let want = (budget - page.scanned).min(MAX_STREAM_READ);
            let entries = self
                .store
                .stream_range(&q.history(), &from, &day_end, want)
                .await?;
            page.scanned += entries.len();
            let Some(last) = entries.last() else {
                return Ok(page);
            };
            from = format!("({}", last.id);
            page.next_cursor = Some(last.id.clone());
            let done = entries.len() < want;
            page.entries.extend(
                entries
                    .iter()
                    .map(|entry| history_entry(queue, entry))
                    .filter(|entry| filter.keeps(entry)),
            );
            if done {
                page.next_cursor = None;
                return Ok(page);
            }
        }
        Ok(page)
    }

    /// Up to `count` entries of `queue`'s history after entry `after`
    /// (`None`: from the oldest kept), oldest first: what an exporter
    /// writes next.
    pub async fn history_after(
        &self,
        queue: &str,
        after: Option<&str>,
        count: usize,
    ) -> Result<Vec<HistoryEntry>, Error> {
        let q = self.store.queue_keys(queue)?;
        let from = match after {
            Some(id) => {
                valid_entry_id(id)?;
                format!("({id}")
            }
            None => "-".to_owned(),
        };
        Ok(self
            .store
            .stream_range(&q.history(), &from, "+", count)
            .await?
            .iter()
            .map(|entry| history_entry(queue, entry))
            .collect())
    }

    /// Registers `queue`'s history exporter if none is, and returns its
    /// cursor: from then on only entries it wrote are trimmed (up to the
    /// hard cap). See `history_export.lua`.
    pub async fn history_export_register(&self, queue: &str) -> Result<ExportCursor, Error> {
        let q = self.store.queue_keys(queue)?;
        self.store.history_export_register(&q).await
    }

    /// The registered exporter wrote `written` entries, the last one
    /// `last_id`, durably: moves its cursor forward.
    pub async fn history_export_commit(
        &self,
        queue: &str,
        last_id: &str,
        written: u64,
    ) -> Result<ExportCursor, Error> {
        valid_entry_id(last_id)?;
        let q = self.store.queue_keys(queue)?;
        self.store.history_export_commit(&q, last_id, written).await
    }

    /// Unregisters `queue`'s exporter: the history is trimmed at its cap
    /// again, written or not.
    pub async fn history_export_unregister(&self, queue: &str) -> Result<(), Error> {
        let q = self.store.queue_keys(queue)?;
        redis::cmd("DEL")
            .arg(q.history_export())
            .query_async::<()>(&mut self.store.connection())
            .await
            .map_err(Error::redis("history_export_unregister"))
    }
}

fn valid_entry_id(id: &str) -> Result<(), Error> {
    let ok = id
        .split_once('-')
        .is_some_and(|(ms, seq)| ms.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "history",
            format!("not a history entry id: {id:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_error_text_still_reads() {
        assert_eq!(
            error_text(r#"boom \"quoted\""#).as_deref(),
            Some(r#"boom "quoted""#)
        );
        // Cut inside an escape, and inside a \u escape.
        assert_eq!(error_text(r"line\").as_deref(), Some("line"));
        assert_eq!(error_text(r"snow \u26").as_deref(), Some("snow "));
        assert_eq!(error_text(""), None);
    }

    #[test]
    fn a_day_is_an_id_range() {
        let (from, to) = day_range(NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert_eq!(from, "1796601600000-0");
        assert!(to.starts_with("1796687999999-"));
    }

    #[test]
    fn trace_ids_come_from_traceparents() {
        assert_eq!(
            trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(trace_id(""), None);
        assert_eq!(trace_id("00-zz-1-01"), None);
    }

    #[test]
    fn entries_entry_ids_are_checked() {
        assert!(valid_entry_id("1-0").is_ok());
        assert!(valid_entry_id("(1-0").is_err());
        assert!(valid_entry_id("+").is_err());
    }
}
