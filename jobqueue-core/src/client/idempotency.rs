//! Idempotency keys ([`crate::JobBuilder::idempotency_key`]): checking
//! them, hashing them, and what `enqueue_idempotent.lua`'s answers mean to
//! the caller.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::client::options::{IdempotencyKey, JobOptions};
use crate::client::prepared::{Destination, PreparedIdempotency, PreparedJob};
use crate::client::unique::UniqueOutcome;
use crate::error::Error;
use crate::store::ops::enqueue_idempotent::{KeyOutcome, KeyedEnqueue};
use crate::store::ops::enqueue_with_id::IdEnqueue;
use crate::wire::record::split_record;

/// Longest idempotency key, in bytes (it is hashed: the length costs no
/// Redis memory).
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Longest window: 30 days.
pub(crate) const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

const OP: &str = "enqueue";

/// Refuses an empty or overlong key, a window outside 1 ms..=30 days, and
/// the options it cannot go with.
pub(crate) fn validate(key: &IdempotencyKey, options: &JobOptions) -> Result<(), Error> {
    if key.key.is_empty() || key.key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(
            OP,
            format!("an idempotency key is 1 to {MAX_KEY_BYTES} bytes"),
        ));
    }
    if key.window < Duration::from_millis(1) || key.window > MAX_WINDOW {
        return Err(Error::invalid(
            OP,
            "an idempotency key's window is 1 ms to 30 days",
        ));
    }
    if options.unique.is_some() || !options.after.is_empty() || options.dependents {
        return Err(Error::invalid(
            OP,
            "an idempotency key cannot go with .unique_for, .after or .with_dependents",
        ));
    }
    Ok(())
}

/// The key as the store keeps it: its SHA-256 (hex), and the window in ms;
/// with the content digest of the job (`job_type`, `record`) the key
/// guards — the envelope's `digest` when it has one (an encrypted payload,
/// `encrypted_digest`), as `content_digest` in `include/new_jobs.lua` reads it.
pub(crate) fn prepare_key(
    key: &IdempotencyKey,
    job_type: &str,
    record: &[u8],
    encrypted_digest: Option<&str>,
) -> PreparedIdempotency {
    let key_digest = lower_hex(&Sha256::digest(key.key.as_bytes()));
    PreparedIdempotency {
        key_digest,
        window_ms: u64::try_from(key.window.as_millis()).unwrap_or(u64::MAX),
        content_digest: encrypted_digest
            .map_or_else(|| content_digest(job_type, record), str::to_owned),
    }
}

/// What makes two enqueues under one key "the same job": the SHA-1 (hex)
/// of `<type>\n<payload>` — the job's type and payload, not its envelope.
/// The same digest `content_digest` in `include/new_jobs.lua` computes
/// from a stored record, so markers written by either side compare equal
/// (docs/protocol.md, "Idempotency keys").
pub(crate) fn content_digest(job_type: &str, record: &[u8]) -> String {
    let payload = split_record(record).map_or(&[][..], |(_, payload)| payload);
    let mut sha = sha1_smol::Sha1::new();
    sha.update(job_type.as_bytes());
    sha.update(b"\n");
    sha.update(payload);
    lower_hex(&sha.digest().bytes())
}

/// `bytes` as lowercase hex (on every idempotent enqueue: no formatting
/// machinery, one allocation).
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The arguments `enqueue_idempotent.lua` takes for `job`.
pub(crate) fn keyed_enqueue<'a>(
    job: &'a PreparedJob,
    key: &'a PreparedIdempotency,
) -> KeyedEnqueue<'a> {
    KeyedEnqueue {
        job: IdEnqueue {
            id: job.id,
            record: &job.record,
            at: match job.destination {
                Destination::Scheduled(at) => Some(at),
                Destination::Ready | Destination::Priority => None,
            },
        },
        key_digest: &key.key_digest,
        window_ms: key.window_ms,
        content_digest: &key.content_digest,
        given_id: job.given_id,
        plain_ready: matches!(job.destination, Destination::Ready),
    }
}

/// The caller's view of what `enqueue_idempotent.lua` did with a job.
pub(crate) fn key_outcome(outcome: KeyOutcome, queue: &str) -> Result<UniqueOutcome, Error> {
    match outcome {
        KeyOutcome::Enqueued(id) => Ok(UniqueOutcome::Enqueued { id }),
        KeyOutcome::Exists(existing) => Ok(UniqueOutcome::Exists { existing }),
        KeyOutcome::Conflict(original) => Err(Error::IdempotencyConflict {
            op: OP,
            queue: queue.to_owned(),
            original,
        }),
        KeyOutcome::Taken(id) => Err(Error::DuplicateId {
            op: OP,
            queue: queue.to_owned(),
            id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_to_hex_sha256() {
        let prepared = prepare_key(
            &IdempotencyKey {
                key: "abc".into(),
                window: Duration::from_secs(1),
            },
            "noop",
            b"{\"id\":\"x\",\"type\":\"noop\"}\n{}",
            None,
        );
        assert_eq!(
            prepared.key_digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(prepared.window_ms, 1000);
    }

    #[test]
    fn content_digests_are_sha1_of_type_newline_payload() {
        // printf 'noop\n{"n":1}' | sha1sum
        assert_eq!(
            content_digest("noop", b"{\"id\":\"x\",\"type\":\"noop\"}\n{\"n\":1}"),
            "568e4763fcf16e9c0644dc5be72f512c59aa412d"
        );
        // The envelope does not count.
        assert_eq!(
            content_digest(
                "noop",
                b"{\"id\":\"y\",\"type\":\"noop\",\"attempt\":2}\n{\"n\":1}"
            ),
            content_digest("noop", b"{\"id\":\"x\",\"type\":\"noop\"}\n{\"n\":1}")
        );
    }
}
