//! Unique jobs: at most one job per uniqueness key and queue at a time.
//!
//! A unique job takes a lock, `P:{Q}:unique:<digest>`, holding its id with
//! a TTL (its unique-for), in the same script that enqueues it
//! (`enqueue_unique.lua`). The script that records the job's end (success,
//! death, cancellation, expiry) frees the lock in the same step; a failed
//! attempt that will be retried keeps it. Whatever happens to workers, the lock lapses with its
//! TTL: a lock never outlives it.

use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use crate::error::Error;

/// What enqueueing a duplicate of a job that holds the key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UniqueMode {
    /// Enqueue nothing; the holder's id is returned (the default).
    #[default]
    Reject,
    /// A holder still scheduled (or waiting for a retry) is deleted and
    /// the new job takes its place. A holder already ready or running
    /// cannot be recalled: the new job is enqueued as well and takes over
    /// the key.
    Replace,
    /// A holder still scheduled keeps its id and payload and its run time
    /// moves to the new job's (never earlier), and the lock's TTL
    /// restarts: "run once, `delay` after the last request". Otherwise as
    /// [`UniqueMode::Replace`].
    Debounce,
}

impl UniqueMode {
    pub(crate) fn as_arg(self) -> &'static str {
        match self {
            UniqueMode::Reject => "reject",
            UniqueMode::Replace => "replace",
            UniqueMode::Debounce => "debounce",
        }
    }
}

/// Uniqueness settings of one enqueue; see [`crate::JobBuilder::unique_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueOptions {
    /// How long the lock lives at most.
    pub ttl: Duration,
    /// The uniqueness key; `None` means job type + payload.
    pub key: Option<String>,
    /// What a duplicate does.
    pub mode: UniqueMode,
}

/// What an enqueue did about duplicates: of a unique job (its uniqueness
/// key), or of a job whose producer gave its id ([`crate::JobBuilder::id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum UniqueOutcome {
    /// No job held the key: this one was enqueued.
    Enqueued {
        /// The new job.
        id: Uuid,
    },
    /// A job holds the key ([`UniqueMode::Reject`]); nothing was enqueued.
    Duplicate {
        /// The job holding the key.
        existing: Uuid,
    },
    /// The new job was enqueued and holds the key; `replaced` is the
    /// waiting job it deleted, if one was still waiting.
    Replaced {
        /// The new job.
        id: Uuid,
        /// The deleted job.
        replaced: Option<Uuid>,
    },
    /// The waiting holder's run time was pushed back; nothing new was enqueued.
    Debounced {
        /// The job holding the key.
        existing: Uuid,
    },
    /// A job with the given id ([`crate::JobBuilder::id`]) and the same
    /// type and payload was already enqueued: nothing new was enqueued
    /// (a retried enqueue whose first attempt was applied).
    Exists {
        /// The job already enqueued under the id.
        existing: Uuid,
    },
}

impl UniqueOutcome {
    /// The id of the job that will run for this key (or under this id).
    pub fn id(&self) -> Uuid {
        match *self {
            UniqueOutcome::Enqueued { id } | UniqueOutcome::Replaced { id, .. } => id,
            UniqueOutcome::Duplicate { existing }
            | UniqueOutcome::Debounced { existing }
            | UniqueOutcome::Exists { existing } => existing,
        }
    }
}

/// The lock's digest of a uniqueness key: hex SHA-1 of the user's key, or
/// of the job type and payload.
pub(crate) fn key_digest(job_type: &str, user_key: Option<&str>, payload: &[u8]) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    match user_key {
        Some(key) => {
            hasher.update(b"key\n");
            hasher.update(key.as_bytes());
        }
        None => {
            hasher.update(b"job\n");
            hasher.update(job_type.as_bytes());
            hasher.update(b"\n");
            hasher.update(payload);
        }
    }
    hasher.digest().to_string()
}

/// The longest `unique_for`: 2^53 ms (about 285,000 years), the largest
/// whole number of milliseconds the lock script handles exactly.
pub const MAX_UNIQUE_TTL_MS: u64 = 1 << 53;

/// The lock TTL in whole milliseconds; rejects a zero TTL and one above
/// [`MAX_UNIQUE_TTL_MS`].
pub(crate) fn ttl_ms(ttl: Duration) -> Result<u64, Error> {
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(Error::invalid(
            "enqueue",
            "unique_for must be at least one millisecond",
        ));
    }
    if ms > MAX_UNIQUE_TTL_MS {
        return Err(Error::invalid(
            "enqueue",
            format!("unique_for must be at most {MAX_UNIQUE_TTL_MS} ms"),
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_is_type_and_payload() {
        let a = key_digest("t", None, b"{\"x\":1}");
        assert_eq!(a, key_digest("t", None, b"{\"x\":1}"));
        assert_ne!(a, key_digest("t", None, b"{\"x\":2}"));
        assert_ne!(a, key_digest("u", None, b"{\"x\":1}"));
        assert_ne!(a, key_digest("t", Some("{\"x\":1}"), b""));
        assert_eq!(
            key_digest("t", Some("k"), b"1"),
            key_digest("u", Some("k"), b"2")
        );
        assert_eq!(a.len(), 40);
    }

    #[test]
    fn a_zero_ttl_is_rejected() {
        assert!(ttl_ms(Duration::ZERO).is_err());
        assert!(ttl_ms(Duration::MAX).is_err());
        assert_eq!(
            ttl_ms(Duration::from_millis(MAX_UNIQUE_TTL_MS)).unwrap(),
            MAX_UNIQUE_TTL_MS
        );
        assert_eq!(ttl_ms(Duration::from_secs(2)).unwrap(), 2000);
    }
}
