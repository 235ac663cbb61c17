//! How numbers, times and durations read, on the pages and in the CLI.

use chrono::{DateTime, Utc};

/// `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.5/s`.
pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}/s")
    } else {
        format!("{per_second:.1}/s")
    }
}

/// `850 ms`, `12 s`, `3 m`, `5 h`, `2 d`.
pub fn duration_ms(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{} s", ms / 1_000),
        60_000..3_600_000 => format!("{} min", ms / 60_000),
        3_600_000..86_400_000 => format!("{} h", ms / 3_600_000),
        _ => format!("{} d", ms / 86_400_000),
    }
}

/// `2026-11-25 08:12:03 UTC (3 min ago)`.
pub fn time(at: Option<DateTime<Utc>>) -> String {
    let Some(at) = at else {
        return "–".to_owned();
    };
    let delta = Utc::now().signed_duration_since(at).num_milliseconds();
    let relative = if delta >= 0 {
        format!("{} ago", duration_ms(delta.unsigned_abs()))
    } else {
        format!("in {}", duration_ms(delta.unsigned_abs()))
    };
    format!("{} ({relative})", at.format("%Y-%m-%d %H:%M:%S UTC"))
}

/// Relative part only: `3 min ago`.
pub fn ago(at: Option<DateTime<Utc>>) -> String {
    let Some(at) = at else {
        return "–".to_owned();
    };
    let delta = Utc::now().signed_duration_since(at).num_milliseconds();
    if delta >= 0 {
        format!("{} ago", duration_ms(delta.unsigned_abs()))
    } else {
        format!("in {}", duration_ms(delta.unsigned_abs()))
    }
}

/// The payload pretty-printed when it is JSON, else as stored.
pub fn pretty_payload(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| payload.to_owned())
}

/// The random tail of a UUID v7 (its head is the time, shared by jobs
/// enqueued together, so the tail is what tells them apart).
pub fn id_tail(id: &uuid::Uuid) -> String {
    let text = id.to_string();
    format!("…{}", &text[text.len() - 12..])
}

/// How a unit enum variant reads in JSON (`"succeeded"`), for labels.
pub fn variant_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// At most `max` characters, with an ellipsis when cut.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(duration_ms(61_000), "1 min");
        assert_eq!(short("abcdef", 3), "abc…");
        assert_eq!(pretty_payload("{\"a\":1}"), "{\n  \"a\": 1\n}");
    }
}
