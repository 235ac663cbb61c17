//! Payload keys for operators: which keys a queue's stored payloads are
//! encrypted with (`jobqueue keys status`), and re-encrypting them under
//! the active key (`jobqueue keys rotate`), docs/payload-encoding.md.
//!
//! Both walk the queue's stored records a page at a time: the ready list,
//! the priority set and the jobs hash (scheduled, retry, dead, waiting,
//! cancelled, expired and keyed jobs). Running jobs are left to finish
//! (their record comes back through the worker, which re-files it as it
//! read it). Rotation decrypts and re-encrypts in this process — keys never
//! reach Redis — and swaps each page with `payload_swap.lua`, which
//! replaces a record only where it still is unchanged, so a job fetched or
//! moved meanwhile is never clobbered. A pass can miss records that moved
//! while it ran (a retry promoted into the ready list behind it): run it
//! until `keys status` shows no old key.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::admin::handle::Admin;
use crate::error::Error;
use crate::store::keys::QueueKeys;
use crate::store::ops::payload_swap::RecordPlace;
use crate::wire::payload_codec::{PayloadCodec, PayloadEncoding, Rotation};
use crate::wire::record::{decode_head, record_id, split_record};

/// Records read and swapped per round trip by default.
pub const DEFAULT_ROTATION_BATCH: usize = 100;

/// Most records per round trip (one script call swaps a page).
pub const MAX_ROTATION_BATCH: usize = 1000;

/// Failures quoted in a [`RotationReport`] (the rest are counted).
const QUOTED_FAILURES: usize = 10;

/// How a queue's stored payloads are encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PayloadKeyStatus {
    /// The queue.
    pub queue: String,
    /// Records examined.
    pub records: u64,
    /// Plain payloads.
    pub plain: u64,
    /// Compressed, not encrypted.
    pub compressed: u64,
    /// Encrypted payloads per key id.
    pub by_key: BTreeMap<String, u64>,
    /// Records whose envelope could not be read or names an unknown encoding.
    pub unreadable: u64,
}

/// What one rotation pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The queue.
    pub queue: String,
    /// The key payloads are now encrypted with.
    pub active_key: String,
    /// Records examined.
    pub examined: u64,
    /// Re-encrypted under the active key.
    pub rotated: u64,
    /// Already under the active key.
    pub current: u64,
    /// Not encrypted (left as they are).
    pub not_encrypted: u64,
    /// Re-encrypted but not swapped: the record moved or changed since it
    /// was read (a later pass finds it).
    pub moved: u64,
    /// Could not be re-encrypted (unknown key, failed authentication,
    /// unreadable record): left as they are.
    pub failed: u64,
    /// The first failures, `job <id>: <reason>`.
    pub failures: Vec<String>,
}

/// Pages of a queue's stored records, place after place.
struct RecordPages {
    place: RecordPlace,
    offset: usize,
    cursor: u64,
    done: bool,
}

impl RecordPages {
    fn new() -> Self {
        Self {
            place: RecordPlace::Ready,
            offset: 0,
            cursor: 0,
            done: false,
        }
    }

    /// The next page and where it was read; `None` after the last.
    async fn next(
        &mut self,
        admin: &Admin,
        queue: &QueueKeys,
        batch: usize,
    ) -> Result<Option<(RecordPlace, Vec<Vec<u8>>)>, Error> {
        if self.done {
            return Ok(None);
        }
        let place = self.place;
        let page = match place {
            RecordPlace::Ready | RecordPlace::Priority => {
                let prioritised = place == RecordPlace::Priority;
                let page = admin
                    .store
                    .ready_records(queue, prioritised, self.offset, batch)
                    .await?;
                self.offset += page.len();
                if page.len() < batch {
                    self.advance();
                }
                page
            }
            RecordPlace::Jobs => {
                let (next, page) = admin
                    .store
                    .jobs_hash_page(queue, self.cursor, batch)
                    .await?;
                self.cursor = next;
                if next == 0 {
                    self.done = true;
                }
                page
            }
        };
        Ok(Some((place, page)))
    }

    /// On to the next place.
    fn advance(&mut self) {
        self.offset = 0;
        self.place = match self.place {
            RecordPlace::Ready => RecordPlace::Priority,
            RecordPlace::Priority | RecordPlace::Jobs => RecordPlace::Jobs,
        };
    }
}

impl Admin {
    /// Counts `queue`'s stored payloads by encoding and key.
    pub async fn payload_key_status(&self, queue: &str) -> Result<PayloadKeyStatus, Error> {
        let keys = self.store.queue_keys(queue)?;
        let mut status = PayloadKeyStatus {
            queue: queue.to_owned(),
            ..PayloadKeyStatus::default()
        };
        let mut pages = RecordPages::new();
        while let Some((_, page)) = pages.next(self, &keys, MAX_ROTATION_BATCH).await? {
            for record in &page {
                status.records += 1;
                let Ok((head, _)) = decode_head(record) else {
                    status.unreadable += 1;
                    continue;
                };
                match head.enc.as_deref().map(PayloadEncoding::parse) {
                    None => status.plain += 1,
                    Some(Ok(PayloadEncoding {
                        key_id: Some(key), ..
                    })) => *status.by_key.entry(key.to_owned()).or_default() += 1,
                    Some(Ok(_)) => status.compressed += 1,
                    Some(Err(_)) => status.unreadable += 1,
                }
            }
        }
        Ok(status)
    }

    /// Re-encrypts `queue`'s stored payloads under `codec`'s active key,
    /// `batch` records per round trip (1..=1000), each swapped only if it is
    /// still unchanged where it was read. Fails only when `codec` holds no
    /// keys or Redis fails; records it cannot re-encrypt are counted and
    /// left as they are.
    pub async fn rotate_payload_keys(
        &self,
        queue: &str,
        codec: &PayloadCodec,
        batch: usize,
    ) -> Result<RotationReport, Error> {
        let Some(keyring) = codec.keyring() else {
            return Err(Error::invalid(
                "rotate_payload_keys",
                "no payload keys given (JOBQUEUE_PAYLOAD_KEYS): rotation needs the active key \
                 and every key still in use",
            ));
        };
        let batch = batch.clamp(1, MAX_ROTATION_BATCH);
        let keys = self.store.queue_keys(queue)?;
        let mut report = RotationReport {
            queue: queue.to_owned(),
            active_key: keyring.active().id().to_owned(),
            ..RotationReport::default()
        };
        let mut pages = RecordPages::new();
        while let Some((place, page)) = pages.next(self, &keys, batch).await? {
            let mut pairs = Vec::new();
            for record in page {
                report.examined += 1;
                match rotate_record(codec, &record) {
                    Ok(RecordRotation::NotEncrypted) => report.not_encrypted += 1,
                    Ok(RecordRotation::Current) => report.current += 1,
                    Ok(RecordRotation::Rotated(new_record)) => pairs.push((record, new_record)),
                    Err(reason) => {
                        report.failed += 1;
                        if report.failures.len() < QUOTED_FAILURES {
                            let id = record_id(&record)
                                .map_or_else(|| "?".to_owned(), |id| id.to_string());
                            report.failures.push(format!("job {id}: {reason}"));
                        }
                    }
                }
            }
            let swapped = self.store.payload_swap(&keys, place, &pairs).await?;
            report.rotated += swapped;
            report.moved += u64::try_from(pairs.len())
                .unwrap_or(u64::MAX)
                .saturating_sub(swapped);
        }
        Ok(report)
    }
}

/// What rotation makes of one record.
enum RecordRotation {
    /// Not encrypted: left as it is.
    NotEncrypted,
    /// Already under the active key.
    Current,
    /// The new record: the envelope with the new `enc` (every other byte as
    /// it was), then the re-encrypted payload.
    Rotated(Vec<u8>),
}

/// Re-encrypts one record's payload, or says why not.
fn rotate_record(codec: &PayloadCodec, record: &[u8]) -> Result<RecordRotation, String> {
    let (head, payload) = decode_head(record).map_err(|e| e.to_string())?;
    let encoded = match codec
        .rotate(&head.job_type, head.enc.as_deref(), payload)
        .map_err(|e| e.to_string())?
    {
        Rotation::NotEncrypted => return Ok(RecordRotation::NotEncrypted),
        Rotation::Current => return Ok(RecordRotation::Current),
        Rotation::Rotated(encoded) => encoded,
    };
    let (envelope, _) = split_record(record).ok_or("no newline in the record")?;
    let old_member = format!(",\"enc\":\"{}\"", head.enc.as_deref().unwrap_or_default());
    let at = find(envelope, old_member.as_bytes()).ok_or("no enc member in the envelope")?;
    let new_member = format!(",\"enc\":\"{}\"", encoded.encoding);
    let mut out = Vec::with_capacity(record.len() + 8);
    out.extend_from_slice(&envelope[..at]);
    out.extend_from_slice(new_member.as_bytes());
    out.extend_from_slice(&envelope[at + old_member.len()..]);
    out.push(b'\n');
    out.extend_from_slice(&encoded.stored);
    Ok(RecordRotation::Rotated(out))
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
