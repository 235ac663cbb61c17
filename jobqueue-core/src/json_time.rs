//! The one time format of jobqueue's JSON (the dashboard's API, the CLI's
//! `--json`, serialized operator types): RFC 3339 in UTC with exactly three
//! fraction digits, `2026-01-02T03:04:05.678Z`. Times stored as epoch
//! milliseconds (error entries, cron results) are shown the same way.
//! Use these with `#[serde(serialize_with = "…")]`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;
use serde::ser::SerializeSeq;

use crate::wire::record::ErrorEntry;

/// `at` as RFC 3339 UTC with milliseconds.
pub fn format(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds (`None` when out
/// of range).
pub fn format_millis(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|at| format(&at))
}

/// Serializes a time in the one format.
pub fn datetime<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(at))
}

/// Serializes an optional time in the one format (`null` when absent).
pub fn optional_datetime<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.serialize_str(&format(at)),
        None => serializer.serialize_none(),
    }
}

/// Serializes epoch milliseconds in the one format.
pub fn millis<S: Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    match format_millis(*ms) {
        Some(text) => serializer.serialize_str(&text),
        None => serializer.serialize_none(),
    }
}

/// Serializes optional epoch milliseconds in the one format.
pub fn optional_millis<S: Serializer>(ms: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match ms.and_then(format_millis) {
        Some(text) => serializer.serialize_str(&text),
        None => serializer.serialize_none(),
    }
}

/// An error history entry as JSON shows it: `at` in the one format (the
/// record stores epoch milliseconds).
#[derive(serde::Serialize)]
struct ErrorEntryView<'a> {
    attempt: u32,
    #[serde(serialize_with = "millis")]
    at: &'a i64,
    kind: &'a crate::wire::record::FailureKind,
    message: &'a str,
}

/// Serializes an error history with each `at` in the one format.
pub fn error_entries<S: Serializer>(
    errors: &[ErrorEntry],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(errors.len()))?;
    for entry in errors {
        seq.serialize_element(&ErrorEntryView {
            attempt: entry.attempt,
            at: &entry.at,
            kind: &entry.kind,
            message: &entry.message,
        })?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_exactly_three_fraction_digits_and_z() {
        assert_eq!(format_millis(0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_millis(1_796_589_902_028).unwrap(),
            "2026-12-06T20:45:02.028Z"
        );
        let nanos = DateTime::from_timestamp(1, 577_610_734).unwrap();
        assert_eq!(format(&nanos), "1970-01-01T00:00:01.577Z");
    }
}
