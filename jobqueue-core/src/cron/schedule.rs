//! [`CronSchedule`]: a cron expression in a time zone, and the ticks it yields.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::Error;

/// A parsed cron expression and the time zone its fields are read in.
///
/// Expressions have six fields, `sec min hour day-of-month month
/// day-of-week`, or five (`min hour dom month dow`, seconds taken as 0), or
/// seven (a trailing year); `@hourly`, `@daily`, `@weekly`, `@monthly` and
/// `@yearly` work too. Day-of-week names (`MON-FRI`) are clearer than
/// numbers, whose base differs between cron dialects.
///
/// ```
/// use jobqueue_core::cron::CronSchedule;
/// let every_five_minutes = CronSchedule::parse("0 */5 * * * *").unwrap();
/// let weekday_mornings = CronSchedule::parse("30 8 * * MON-FRI")
///     .unwrap()
///     .in_time_zone("Europe/Berlin")
///     .unwrap();
/// assert_eq!(weekday_mornings.time_zone(), "Europe/Berlin");
/// assert!(CronSchedule::parse("every day").is_err());
/// # let _ = every_five_minutes;
/// ```
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expression: String,
    schedule: cron::Schedule,
    time_zone: Tz,
}

impl CronSchedule {
    /// Parses `expression`, read in UTC.
    pub fn parse(expression: &str) -> Result<Self, Error> {
        let trimmed = expression.trim();
        let fields = trimmed.split_whitespace().count();
        // The cron crate wants the seconds field; a classic five-field
        // expression means "at second 0".
        let full = if fields == 5 && !trimmed.starts_with('@') {
            format!("0 {trimmed}")
        } else {
            trimmed.to_owned()
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| {
            Error::invalid(
                "cron",
                format!("cron expression {expression:?} is not valid: {e}"),
            )
        })?;
        Ok(Self {
            expression: trimmed.to_owned(),
            schedule,
            time_zone: Tz::UTC,
        })
    }

    /// Reads the fields in the IANA time zone `name` (e.g. `"America/New_York"`)
    /// instead of UTC, so "9 o'clock" follows daylight saving time.
    pub fn in_time_zone(mut self, name: &str) -> Result<Self, Error> {
        self.time_zone = Tz::from_str(name).map_err(|_| {
            Error::invalid("cron", format!("{name:?} is not an IANA time zone name"))
        })?;
        Ok(self)
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone's IANA name.
    pub fn time_zone(&self) -> &str {
        self.time_zone.name()
    }

    /// The first tick strictly after `after_ms` (ms since the epoch).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        self.ticks_after(after_ms).next()
    }

    /// Ticks in `(after_ms, until_ms]`, oldest first, at most `limit`.
    pub fn ticks_between(&self, after_ms: i64, until_ms: i64, limit: usize) -> Vec<i64> {
        self.ticks_after(after_ms)
            .take_while(|&tick| tick <= until_ms)
            .take(limit)
            .collect()
    }

    /// How many ticks fall in `(after_ms, until_ms]`, counting at most `cap`.
    pub fn count_between(&self, after_ms: i64, until_ms: i64, cap: usize) -> usize {
        self.ticks_after(after_ms)
            .take_while(|&tick| tick <= until_ms)
            .take(cap)
            .count()
    }

    /// The latest `keep` ticks in `(after_ms, until_ms]`, oldest first.
    ///
    /// Found by looking back in growing windows from `until_ms`, so a
    /// once-a-second schedule missed for a month costs a few hundred
    /// steps, not millions.
    pub fn latest_between(&self, after_ms: i64, until_ms: i64, keep: usize) -> Vec<i64> {
        if keep == 0 || until_ms <= after_ms {
            return Vec::new();
        }
        const WINDOWS_MS: [i64; 6] = [
            60_000,
            3_600_000,
            86_400_000,
            32 * 86_400_000,
            400 * 86_400_000,
            i64::MAX,
        ];
        for window in WINDOWS_MS {
            let from = until_ms.saturating_sub(window).max(after_ms);
            let mut found = std::collections::VecDeque::with_capacity(keep);
            for tick in self.ticks_after(from).take_while(|&tick| tick <= until_ms) {
                if found.len() == keep {
                    found.pop_front();
                }
                found.push_back(tick);
            }
            if found.len() == keep || from == after_ms {
                return found.into();
            }
        }
        Vec::new()
    }

    fn ticks_after(&self, after_ms: i64) -> impl Iterator<Item = i64> + '_ {
        let start = Utc
            .timestamp_millis_opt(after_ms)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .with_timezone(&self.time_zone);
        self.schedule
            .after(&start)
            .map(|tick| tick.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn five_fields_mean_second_zero() {
        let five = CronSchedule::parse("*/5 * * * *").unwrap();
        let six = CronSchedule::parse("0 */5 * * * *").unwrap();
        let at = ms("2026-01-01T10:02:30Z");
        assert_eq!(five.next_after(at), Some(ms("2026-01-01T10:05:00Z")));
        assert_eq!(five.next_after(at), six.next_after(at));
    }

    #[test]
    fn next_is_strictly_after() {
        let every_second = CronSchedule::parse("* * * * * *").unwrap();
        let at = ms("2026-01-01T10:00:00Z");
        assert_eq!(every_second.next_after(at), Some(at + 1000));
        assert_eq!(
            every_second.ticks_between(at, at + 3000, 10),
            vec![at + 1000, at + 2000, at + 3000]
        );
        assert_eq!(every_second.count_between(at, at + 3000, 2), 2);
    }

    #[test]
    fn time_zones_follow_daylight_saving() {
        let nine = CronSchedule::parse("0 0 9 * * *")
            .unwrap()
            .in_time_zone("Europe/Berlin")
            .unwrap();
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            nine.next_after(ms("2026-01-15T00:00:00Z")),
            Some(ms("2026-01-15T08:00:00Z"))
        );
        assert_eq!(
            nine.next_after(ms("2026-07-15T00:00:00Z")),
            Some(ms("2026-07-15T07:00:00Z"))
        );
        assert!(nine.clone().in_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn latest_ticks_are_found_without_walking_the_whole_gap() {
        let every_second = CronSchedule::parse("* * * * * *").unwrap();
        let until = ms("2026-03-01T00:00:00Z");
        let after = until - 30 * 86_400_000;
        assert_eq!(
            every_second.latest_between(after, until, 3),
            vec![until - 2000, until - 1000, until]
        );
        let yearly = CronSchedule::parse("@yearly").unwrap();
        assert_eq!(
            yearly.latest_between(ms("2020-06-01T00:00:00Z"), until, 1),
            vec![ms("2026-01-01T00:00:00Z")]
        );
        assert_eq!(
            yearly.latest_between(ms("2026-06-01T00:00:00Z"), until, 1),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn bad_expressions_are_rejected_with_the_expression_in_the_message() {
        let err = CronSchedule::parse("61 * * * * *").unwrap_err();
        assert!(err.to_string().contains("61 * * * * *"), "{err}");
        assert!(CronSchedule::parse("").is_err());
    }
}
