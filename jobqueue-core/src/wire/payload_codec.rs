//! [`PayloadCodec`]: optional zstd compression and authenticated encryption
//! of job payloads (docs/payload-encoding.md).
//!
//! Off by default: a producer without a codec writes the record exactly as
//! before, byte for byte. With one, a payload is stored *encoded*:
//!
//! * the envelope gains the member `"enc"`, naming the encoding: `zstd`,
//!   `xchacha20poly1305:<key id>` or `zstd+xchacha20poly1305:<key id>`
//!   (compressed, then encrypted);
//! * the payload becomes one JSON string holding the encoded bytes in
//!   standard base64 (padded): the zstd frame, or the 24-byte nonce followed
//!   by the ciphertext and its 16-byte Poly1305 tag. The record stays two
//!   lines of JSON that any language can read and route.
//!
//! The cipher authenticates, besides the payload, the *associated data*
//! `jobqueue-payload\n<job type>\n<enc>`: a payload moved to another job
//! type or relabelled with another encoding fails to decrypt. (Not the job
//! id: the scripts give a record a fresh id when a duplicate id arrives, and
//! the job must stay readable.)
//!
//! A reader that does not know a record's encoding, lacks the cargo feature
//! for it or the key it names fails with a [`PayloadCodecError`] that says
//! so; the worker dead-letters such a job with that message, never runs it.
//!
//! ```
//! use jobqueue_core::wire::payload_codec::PayloadCodec;
//! use jobqueue_core::wire::payload_keys::Keyring;
//!
//! let keyring = Keyring::parse("k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")?;
//! let codec = PayloadCodec::plain().compress_above(1024).encrypt(keyring);
//! # #[cfg(all(feature = "compression", feature = "encryption"))] {
//! let payload = br#"{"user_id":7,"email":"ada@example.com"}"#;
//! let encoded = codec.encode("send_email", payload)?.expect("encrypted");
//! assert_eq!(encoded.encoding, "xchacha20poly1305:k1"); // too small to compress
//! let decoded = codec.decode("send_email", Some(&encoded.encoding), &encoded.stored)?;
//! assert_eq!(&*decoded, payload);
//! # }
//! # Ok::<(), jobqueue_core::wire::payload_codec::PayloadCodecError>(())
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use crate::wire::payload_error::PayloadCodecError;
use crate::wire::payload_keys::{Keyring, PayloadKey};
use crate::wire::payload_primitives::{compress, decompress, keyed_digest, open, seal};

/// The size above which [`PayloadCodec::compress`] compresses: 1 KiB.
/// Smaller JSON rarely shrinks by more than base64 adds back.
pub const DEFAULT_COMPRESS_ABOVE: usize = 1024;

/// Largest payload a compressed one may expand to: 64 MiB (a tiny zstd
/// frame can claim gigabytes; past this the job is refused).
pub const MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// Environment variable read by [`PayloadCodec::from_env`]: compress
/// payloads above this many bytes (unset: no compression).
pub const ENV_COMPRESS_ABOVE: &str = "JOBQUEUE_PAYLOAD_COMPRESS_ABOVE";

/// The `enc` name of zstd compression.
pub const ZSTD: &str = "zstd";

/// The `enc` name of XChaCha20-Poly1305, followed by `:<key id>`.
pub const XCHACHA20POLY1305: &str = "xchacha20poly1305";

/// How payloads are written: compressed above a size, encrypted under a
/// keyring's active key, both, or neither (the default). Reading takes
/// every encoding the build's features and the keyring allow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct PayloadCodec {
    compress_above: Option<usize>,
    keyring: Option<Arc<Keyring>>,
}

/// A payload as stored: the envelope's `enc` and the payload bytes (a
/// JSON string of base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPayload {
    /// The `enc` member's value.
    pub encoding: String,
    /// The stored payload: `"<base64>"`.
    pub stored: Vec<u8>,
}

/// What [`PayloadCodec::rotate`] did to one payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Not encrypted: left as it is.
    NotEncrypted,
    /// Already under the active key.
    Current,
    /// Re-encrypted under the active key.
    Rotated(EncodedPayload),
}

/// An `enc` value, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadEncoding<'a> {
    /// zstd-compressed (before encryption, when both).
    pub compressed: bool,
    /// The key it is encrypted with, when encrypted.
    pub key_id: Option<&'a str>,
}

impl<'a> PayloadEncoding<'a> {
    /// Parses an `enc` value.
    pub fn parse(enc: &'a str) -> Result<Self, PayloadCodecError> {
        let unknown = || PayloadCodecError::UnknownEncoding(enc.escape_debug().to_string());
        if enc == ZSTD {
            return Ok(Self {
                compressed: true,
                key_id: None,
            });
        }
        let (compressed, rest) = match enc.strip_prefix("zstd+") {
            Some(rest) => (true, rest),
            None => (false, enc),
        };
        let key_id = rest
            .strip_prefix(XCHACHA20POLY1305)
            .and_then(|rest| rest.strip_prefix(':'))
            .filter(|id| !id.is_empty())
            .ok_or_else(unknown)?;
        Ok(Self {
            compressed,
            key_id: Some(key_id),
        })
    }

    /// How an operator sees it: `compressed`, `encrypted (key k1)`,
    /// `compressed, encrypted (key k1)`.
    pub fn describe(&self) -> String {
        match (self.compressed, self.key_id) {
            (true, None) => "compressed".to_owned(),
            (false, Some(key)) => format!("encrypted (key {key})"),
            (true, Some(key)) => format!("compressed, encrypted (key {key})"),
            (false, None) => "plain".to_owned(),
        }
    }
}

impl PayloadCodec {
    /// No compression, no encryption: records exactly as without a codec.
    pub fn plain() -> Self {
        Self::default()
    }

    /// Compresses payloads above [`DEFAULT_COMPRESS_ABOVE`] (1 KiB).
    pub fn compress(self) -> Self {
        self.compress_above(DEFAULT_COMPRESS_ABOVE)
    }

    /// Compresses payloads above `bytes` (when that makes them smaller).
    pub fn compress_above(mut self, bytes: usize) -> Self {
        self.compress_above = Some(bytes);
        self
    }

    /// Encrypts every payload under `keyring`'s active key; its other keys
    /// decrypt older payloads.
    pub fn encrypt(mut self, keyring: Keyring) -> Self {
        self.keyring = Some(Arc::new(keyring));
        self
    }

    /// The codec `JOBQUEUE_PAYLOAD_KEYS` and `JOBQUEUE_PAYLOAD_COMPRESS_ABOVE`
    /// describe (plain when both are unset).
    pub fn from_env() -> Result<Self, PayloadCodecError> {
        let mut codec = Self::plain();
        if let Ok(above) = std::env::var(ENV_COMPRESS_ABOVE)
            && !above.trim().is_empty()
        {
            let bytes = above.trim().parse().map_err(|_| {
                PayloadCodecError::InvalidKey(format!(
                    "{ENV_COMPRESS_ABOVE} must be a number of bytes, not '{}'",
                    above.escape_debug()
                ))
            })?;
            codec = codec.compress_above(bytes);
        }
        if let Some(keyring) = Keyring::from_env()? {
            codec = codec.encrypt(keyring);
        }
        Ok(codec)
    }

    /// True when it writes records exactly as without a codec.
    pub fn is_plain(&self) -> bool {
        self.compress_above.is_none() && self.keyring.is_none()
    }

    /// The keyring, when it encrypts.
    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_deref()
    }

    /// The size above which it compresses, when it compresses.
    pub fn compresses_above(&self) -> Option<usize> {
        self.compress_above
    }

    /// Encodes a payload of `job_type`; `None` when it is stored as it is
    /// (no codec, or below the compression size and not encrypting, or
    /// compression would not make it smaller).
    pub fn encode(
        &self,
        job_type: &str,
        payload: &[u8],
    ) -> Result<Option<EncodedPayload>, PayloadCodecError> {
        let mut inner = Cow::Borrowed(payload);
        let mut compressed = false;
        if self
            .compress_above
            .is_some_and(|above| payload.len() > above)
        {
            let frame = compress(payload)?;
            // Base64 adds a third: keep the frame only if it still saves.
            if base64_len(frame.len()) + 2 < payload.len() {
                inner = Cow::Owned(frame);
                compressed = true;
            }
        }
        let encoding = match (&self.keyring, compressed) {
            (None, false) => return Ok(None),
            (None, true) => ZSTD.to_owned(),
            (Some(keyring), _) => encryption_name(compressed, keyring.active()),
        };
        let bytes = match &self.keyring {
            Some(keyring) => seal(
                keyring.active(),
                &associated_data(job_type, &encoding),
                &inner,
            )?,
            None => inner.into_owned(),
        };
        Ok(Some(EncodedPayload {
            stored: base64_json_string(&bytes),
            encoding,
        }))
    }

    /// The digest that stands for an encrypted job's content (the
    /// envelope's `digest`, see [`crate::wire::record::Envelope::digest`]):
    /// a keyed digest (HMAC-SHA256 under the active key) of `job_type` and
    /// the plain `payload`, the same for every encryption of it. `None`
    /// when the codec does not encrypt (a compressed payload is the same
    /// bytes every time, so the scripts' SHA-1 of it serves).
    pub fn content_digest(
        &self,
        job_type: &str,
        payload: &[u8],
    ) -> Result<Option<String>, PayloadCodecError> {
        match &self.keyring {
            Some(keyring) => keyed_digest(keyring.active(), job_type, payload).map(Some),
            None => Ok(None),
        }
    }

    /// The payload JSON of a stored payload whose envelope's `enc` is
    /// `encoding` (borrowed as it is when `None`).
    pub fn decode<'a>(
        &self,
        job_type: &str,
        encoding: Option<&str>,
        stored: &'a [u8],
    ) -> Result<Cow<'a, [u8]>, PayloadCodecError> {
        let Some(enc) = encoding else {
            return Ok(Cow::Borrowed(stored));
        };
        let parsed = PayloadEncoding::parse(enc)?;
        let mut bytes = decode_base64_json_string(stored)?;
        if let Some(key_id) = parsed.key_id {
            bytes = open(self.key(key_id)?, &associated_data(job_type, enc), &bytes)?;
        }
        if parsed.compressed {
            bytes = decompress(&bytes, MAX_DECODED_BYTES)?;
        }
        Ok(Cow::Owned(bytes))
    }

    /// Re-encrypts an encrypted payload under the active key (keeping it
    /// compressed or not as it was): what `jobqueue keys rotate` does to
    /// each record.
    pub fn rotate(
        &self,
        job_type: &str,
        encoding: Option<&str>,
        stored: &[u8],
    ) -> Result<Rotation, PayloadCodecError> {
        let Some(enc) = encoding else {
            return Ok(Rotation::NotEncrypted);
        };
        let parsed = PayloadEncoding::parse(enc)?;
        let Some(key_id) = parsed.key_id else {
            return Ok(Rotation::NotEncrypted);
        };
        let old_key = self.key(key_id)?;
        let active = self.keyring.as_deref().map_or(old_key, Keyring::active);
        if active.id() == key_id {
            return Ok(Rotation::Current);
        }
        let sealed = decode_base64_json_string(stored)?;
        let inner = open(old_key, &associated_data(job_type, enc), &sealed)?;
        let encoding = encryption_name(parsed.compressed, active);
        let resealed = seal(active, &associated_data(job_type, &encoding), &inner)?;
        // The record keeps its digest (the envelope's other bytes stay).
        Ok(Rotation::Rotated(EncodedPayload {
            stored: base64_json_string(&resealed),
            encoding,
        }))
    }

    /// The key named `key_id`, or why there is none.
    fn key(&self, key_id: &str) -> Result<&PayloadKey, PayloadCodecError> {
        let keyring = self
            .keyring
            .as_deref()
            .ok_or_else(|| PayloadCodecError::NoKeyring {
                key_id: key_id.to_owned(),
            })?;
        keyring
            .get(key_id)
            .ok_or_else(|| PayloadCodecError::UnknownKey {
                key_id: key_id.to_owned(),
                known: keyring.ids().collect::<Vec<_>>().join(", "),
            })
    }
}

/// `xchacha20poly1305:<id>`, after `zstd+` when compressed.
fn encryption_name(compressed: bool, key: &PayloadKey) -> String {
    let zstd = if compressed { "zstd+" } else { "" };
    format!("{zstd}{XCHACHA20POLY1305}:{}", key.id())
}

/// What the cipher authenticates besides the payload.
fn associated_data(job_type: &str, encoding: &str) -> Vec<u8> {
    format!("jobqueue-payload\n{job_type}\n{encoding}").into_bytes()
}

/// Length of `n` bytes in padded base64.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// `"<base64>"`: bytes as one JSON string.
fn base64_json_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(base64_len(bytes.len()) + 2);
    out.push(b'"');
    out.extend_from_slice(STANDARD.encode(bytes).as_bytes());
    out.push(b'"');
    out
}

/// The bytes of a `"<base64>"` payload.
fn decode_base64_json_string(stored: &[u8]) -> Result<Vec<u8>, PayloadCodecError> {
    let inner = stored
        .strip_prefix(b"\"")
        .and_then(|rest| rest.strip_suffix(b"\""))
        .ok_or_else(|| {
            PayloadCodecError::Malformed("an encoded payload is a JSON string of base64".to_owned())
        })?;
    STANDARD
        .decode(inner)
        .map_err(|e| PayloadCodecError::Malformed(format!("not base64: {e}")))
}

#[cfg(all(test, feature = "compression", feature = "encryption"))]
mod tests {
    use super::*;

    fn keyring(spec: &str) -> Keyring {
        Keyring::parse(spec).unwrap()
    }
    const K1: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    const K2: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

    fn big_payload() -> Vec<u8> {
        let items: Vec<String> = (0..100)
            .map(|i| format!("{{\"item\":{i},\"name\":\"widget\"}}"))
            .collect();
        format!("{{\"items\":[{}]}}", items.join(",")).into_bytes()
    }

    #[test]
    fn plain_codec_stores_payloads_as_they_are() {
        assert!(PayloadCodec::plain().is_plain());
        assert_eq!(
            PayloadCodec::plain().encode("t", &big_payload()).unwrap(),
            None
        );
        let small = br#"{"a":1}"#;
        assert_eq!(
            PayloadCodec::plain().compress().encode("t", small).unwrap(),
            None
        );
    }

    #[test]
    fn compression_round_trips_and_shrinks() {
        let codec = PayloadCodec::plain().compress();
        let payload = big_payload();
        let encoded = codec.encode("t", &payload).unwrap().unwrap();
        assert_eq!(encoded.encoding, "zstd");
        assert!(encoded.stored.len() < payload.len() / 4);
        // Any reader decompresses: no key needed.
        let decoded = PayloadCodec::plain()
            .decode("t", Some("zstd"), &encoded.stored)
            .unwrap();
        assert_eq!(decoded.as_ref(), payload.as_slice());
    }

    #[test]
    fn encryption_round_trips_and_is_bound_to_type_and_encoding() {
        let codec = PayloadCodec::plain().compress().encrypt(keyring(K1));
        let payload = big_payload();
        let encoded = codec.encode("t", &payload).unwrap().unwrap();
        assert_eq!(encoded.encoding, "zstd+xchacha20poly1305:k1");
        let decode = |job_type, enc, stored: &[u8]| {
            codec
                .decode(job_type, Some(enc), stored)
                .map(|p| p.into_owned())
        };
        assert_eq!(
            decode("t", &*encoded.encoding, &encoded.stored).unwrap(),
            payload
        );
        let not_authentic = Err(PayloadCodecError::NotAuthentic {
            key_id: "k1".to_owned(),
        });
        assert_eq!(
            decode("other", &*encoded.encoding, &encoded.stored),
            not_authentic
        );
        assert_eq!(
            decode("t", "xchacha20poly1305:k1", &encoded.stored),
            not_authentic
        );
        // One flipped bit of the ciphertext.
        let mut sealed = decode_base64_json_string(&encoded.stored).unwrap();
        sealed[40] ^= 1;
        assert_eq!(
            decode("t", &*encoded.encoding, &base64_json_string(&sealed)),
            not_authentic
        );
        // Another key under the same id.
        let impostor = PayloadCodec::plain()
            .encrypt(keyring("k1:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="));
        assert!(matches!(
            impostor.decode("t", Some(&encoded.encoding), &encoded.stored),
            Err(PayloadCodecError::NotAuthentic { .. })
        ));
    }

    #[test]
    fn missing_keys_and_unknown_encodings_are_named() {
        let encoded = PayloadCodec::plain()
            .encrypt(keyring(K1))
            .encode("t", b"{}")
            .unwrap()
            .unwrap();
        let message = |codec: PayloadCodec, enc: &str| {
            codec
                .decode("t", Some(enc), &encoded.stored)
                .unwrap_err()
                .to_string()
        };
        assert!(message(PayloadCodec::plain(), &encoded.encoding).contains("no payload keys"));
        assert!(
            message(
                PayloadCodec::plain().encrypt(keyring(K2)),
                &encoded.encoding
            )
            .contains("'k1', which is not in the keyring (keys: k2)")
        );
        assert!(
            message(PayloadCodec::plain(), "brotli").contains("unknown payload encoding 'brotli'")
        );
        assert!(message(PayloadCodec::plain(), "xchacha20poly1305:").contains("unknown"));
        let garbage = PayloadCodec::plain()
            .decode("t", Some("zstd"), b"{\"a\":1}")
            .unwrap_err();
        assert!(matches!(garbage, PayloadCodecError::Malformed(_)));
    }

    #[test]
    fn rotation_moves_old_payloads_to_the_active_key() {
        let old = PayloadCodec::plain().compress().encrypt(keyring(K1));
        let payload = big_payload();
        let encoded = old.encode("t", &payload).unwrap().unwrap();
        let new = PayloadCodec::plain().encrypt(keyring(&format!("{K2},{K1}")));
        let Rotation::Rotated(rotated) = new
            .rotate("t", Some(&encoded.encoding), &encoded.stored)
            .unwrap()
        else {
            panic!("not rotated");
        };
        assert_eq!(rotated.encoding, "zstd+xchacha20poly1305:k2");
        let k2_only = PayloadCodec::plain().encrypt(keyring(K2));
        assert_eq!(
            k2_only
                .decode("t", Some(&rotated.encoding), &rotated.stored)
                .unwrap()
                .as_ref(),
            payload.as_slice()
        );
        assert_eq!(
            new.rotate("t", Some(&rotated.encoding), &rotated.stored)
                .unwrap(),
            Rotation::Current
        );
        assert_eq!(
            new.rotate("t", None, b"{}").unwrap(),
            Rotation::NotEncrypted
        );
        assert_eq!(
            new.rotate("t", Some("zstd"), b"\"\"").unwrap(),
            Rotation::NotEncrypted
        );
    }

    #[test]
    fn a_frame_claiming_too_much_is_refused() {
        let zeros = vec![b' '; MAX_DECODED_BYTES + 10];
        let frame = compress(&zeros).unwrap();
        let stored = base64_json_string(&frame);
        assert_eq!(
            PayloadCodec::plain().decode("t", Some("zstd"), &stored),
            Err(PayloadCodecError::TooLarge {
                limit: MAX_DECODED_BYTES
            })
        );
    }
}

#[cfg(all(test, not(feature = "compression"), not(feature = "encryption")))]
mod without_features {
    use super::*;

    #[test]
    fn a_build_without_the_features_names_the_one_it_lacks() {
        let refused = |enc: &str| {
            PayloadCodec::plain()
                .encrypt(Keyring::parse("k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap())
                .decode(
                    "t",
                    Some(enc),
                    b"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
                )
                .unwrap_err()
                .to_string()
        };
        assert!(refused("zstd").contains("lacks jobqueue's `compression` cargo feature"));
        assert!(refused("xchacha20poly1305:k1").contains("lacks jobqueue's `encryption`"));
        // Writing plain payloads needs neither.
        assert_eq!(PayloadCodec::plain().encode("t", b"{}"), Ok(None));
    }
}
