//! Filters for job listings and the error fingerprint that groups dead jobs.
//!
//! A fingerprint names "the same failure": the job type plus the last error
//! message with its variable parts (numbers, ids, hex, quoted values)
//! replaced, so 30,000 jobs that died of `connection refused (10.0.0.7:5432)`
//! with different ids show up as one group.

use serde::{Deserialize, Serialize};

use crate::admin::jobs::JobInfo;

/// Longest normalised message kept in a fingerprint, in characters.
const MAX_NORMALISED_CHARS: usize = 200;

/// Which jobs a listing or bulk action applies to. Empty fields match all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    /// Exact job type.
    pub job_type: Option<String>,
    /// Case-insensitive text the last error message must contain.
    pub error_contains: Option<String>,
    /// Error fingerprint (see [`error_fingerprint`]) the job must have.
    pub fingerprint: Option<String>,
}

impl JobFilter {
    /// A filter that matches every job.
    pub fn all() -> Self {
        Self::default()
    }

    /// True when no field restricts the match.
    pub fn is_empty(&self) -> bool {
        self.job_type.is_none() && self.error_contains.is_none() && self.fingerprint.is_none()
    }

    /// Whether `job` passes the filter.
    pub fn matches(&self, job: &JobInfo) -> bool {
        if let Some(job_type) = &self.job_type
            && job.job_type.as_deref() != Some(job_type.as_str())
        {
            return false;
        }
        if let Some(needle) = &self.error_contains {
            let needle = needle.to_lowercase();
            let hit = job
                .errors
                .last()
                .is_some_and(|e| e.message.to_lowercase().contains(&needle))
                || job
                    .decode_error
                    .as_ref()
                    .is_some_and(|e| e.to_lowercase().contains(&needle));
            if !hit {
                return false;
            }
        }
        if let Some(fingerprint) = &self.fingerprint
            && job_fingerprint(job) != *fingerprint
        {
            return false;
        }
        true
    }
}

/// The fingerprint of a job's last failure (see the module docs).
pub(crate) fn job_fingerprint(job: &JobInfo) -> String {
    let message = job
        .errors
        .last()
        .map(|e| e.message.as_str())
        .or(job.decode_error.as_deref())
        .unwrap_or("");
    error_fingerprint(job.job_type.as_deref().unwrap_or("?"), message)
}

/// A stable 16-hex-digit fingerprint of a job type and an error message
/// (FNV-1a over the type and the normalised message: the same in every
/// build, so a fingerprint in a URL or a script stays valid).
pub fn error_fingerprint(job_type: &str, message: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let normalised = normalise_error_message(message);
    for byte in job_type
        .bytes()
        .chain(std::iter::once(0))
        .chain(normalised.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// An error message with its variable parts replaced: runs of digits and
/// hex-like words become `#`, quoted text becomes `"…"`, whitespace is
/// collapsed, and the result is cut to 200 characters.
pub fn normalise_error_message(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if out.chars().count() >= MAX_NORMALISED_CHARS {
            break;
        }
        match c {
            '"' | '\'' | '`' => {
                // Skip to the matching quote: quoted parts are usually values.
                for next in chars.by_ref() {
                    if next == c {
                        break;
                    }
                }
                out.push_str("\"…\"");
            }
            c if c.is_ascii_alphanumeric() => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() {
                        word.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word.bytes().any(|b| b.is_ascii_digit()) {
                    out.push('#');
                } else {
                    out.push_str(&word);
                }
            }
            c if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_parts_do_not_change_the_fingerprint() {
        let a = error_fingerprint(
            "mail",
            "connect 10.0.0.7:5432 refused for user 'ada' id 0192f0c4",
        );
        let b = error_fingerprint(
            "mail",
            "connect 10.0.0.9:6543 refused for user 'bob' id 77aa91ff",
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            error_fingerprint(
                "sms",
                "connect 10.0.0.7:5432 refused for user 'ada' id 0192f0c4"
            )
        );
        assert_ne!(a, error_fingerprint("mail", "timeout after 30s"));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn normalises_numbers_quotes_and_space() {
        assert_eq!(
            normalise_error_message("row  42 \"x y\"\tmissing"),
            "row # \"…\" missing"
        );
        assert!(normalise_error_message(&"a ".repeat(1000)).chars().count() <= 201);
    }
}
