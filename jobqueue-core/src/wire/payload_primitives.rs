//! The two primitives behind [`crate::wire::payload_codec`], each behind its
//! cargo feature: zstd (the `zstd` crate, `compression`) and
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`, `encryption`).
//! No cryptography is written here: this module only calls the crates.
//!
//! Without a feature, its functions fail with
//! [`PayloadCodecError::FeatureMissing`], so a build that cannot read an
//! encoding refuses the job with a readable error instead of mis-running it.

use crate::wire::payload_error::PayloadCodecError;
use crate::wire::payload_keys::PayloadKey;

/// Bytes of the random nonce in front of every sealed payload (XChaCha20:
/// 192 bits, large enough to pick at random for every message).
pub const NONCE_BYTES: usize = 24;

/// zstd level: 3 is zstd's default, a good ratio at several hundred MB/s.
#[cfg(feature = "compression")]
const ZSTD_LEVEL: i32 = 3;

/// Compresses `data` into one zstd frame (its content size recorded, so
/// [`decompress`] can check it before allocating). Each thread keeps one
/// compression context: making one per payload would cost more than
/// compressing a few KiB.
#[cfg(feature = "compression")]
pub(crate) fn compress(data: &[u8]) -> Result<Vec<u8>, PayloadCodecError> {
    use std::cell::RefCell;
    thread_local! {
        static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { RefCell::new(None) };
    }
    let failed =
        |e: std::io::Error| PayloadCodecError::Malformed(format!("zstd compression failed: {e}"));
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match &mut *slot {
            Some(compressor) => compressor,
            empty => empty.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(failed)?),
        };
        compressor.compress(data).map_err(failed)
    })
}

/// Decompresses one zstd frame, refusing output past `limit` bytes (a
/// small frame can claim gigabytes): the frame's recorded content size is
/// checked first; a frame without one is streamed up to the limit.
#[cfg(feature = "compression")]
pub(crate) fn decompress(frame: &[u8], limit: usize) -> Result<Vec<u8>, PayloadCodecError> {
    use std::io::Read;
    let malformed =
        |e: &dyn std::fmt::Display| PayloadCodecError::Malformed(format!("not a zstd frame: {e}"));
    let declared = zstd::zstd_safe::get_frame_content_size(frame)
        .map_err(|_| PayloadCodecError::Malformed("not a zstd frame".to_owned()))?;
    if let Some(size) = declared {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > limit {
            return Err(PayloadCodecError::TooLarge { limit });
        }
        return zstd::bulk::decompress(frame, size).map_err(|e| malformed(&e));
    }
    let decoder = zstd::stream::read::Decoder::new(frame).map_err(|e| malformed(&e))?;
    let mut out = Vec::new();
    decoder
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| malformed(&e))?;
    if out.len() > limit {
        return Err(PayloadCodecError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(not(feature = "compression"))]
pub(crate) fn compress(_data: &[u8]) -> Result<Vec<u8>, PayloadCodecError> {
    Err(PayloadCodecError::FeatureMissing {
        what: "zstd-compressed",
        feature: "compression",
    })
}

#[cfg(not(feature = "compression"))]
pub(crate) fn decompress(_frame: &[u8], _limit: usize) -> Result<Vec<u8>, PayloadCodecError> {
    compress(&[])
}

/// Encrypts `plain` under `key`, authenticating `aad` with it; returns a
/// fresh random nonce followed by the ciphertext and its 16-byte tag.
#[cfg(feature = "encryption")]
pub(crate) fn seal(
    key: &PayloadKey,
    aad: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, PayloadCodecError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce)
        .map_err(|e| PayloadCodecError::Random(format!("no random nonce: {e}")))?;
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key.material()));
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| PayloadCodecError::Malformed("encryption failed".to_owned()))?;
    let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts what [`seal`] made, checking its tag (and `aad`): a changed
/// byte, another key under the same id or another `aad` fails.
#[cfg(feature = "encryption")]
pub(crate) fn open(
    key: &PayloadKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, PayloadCodecError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
    if sealed.len() < NONCE_BYTES + 16 {
        return Err(PayloadCodecError::Malformed(format!(
            "sealed payload of {} bytes is shorter than a nonce and a tag",
            sealed.len()
        )));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key.material()));
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| PayloadCodecError::NotAuthentic {
            key_id: key.id().to_owned(),
        })
}

/// The content digest of an encrypted job (the envelope's `digest`):
/// HMAC-SHA256 under `key` of `<type>\n<payload JSON>`, cut to 160 bits
/// (40 lowercase hex digits, the shape of the scripts' SHA-1 digests). What
/// makes two enqueues of an encrypted job "the same job" for given ids and
/// idempotency keys (the stored payload differs every time: its nonce is
/// random); keyed, so the digest tells nothing about the payload to whoever
/// reads Redis without the key.
#[cfg(feature = "encryption")]
pub(crate) fn keyed_digest(
    key: &PayloadKey,
    job_type: &str,
    payload: &[u8],
) -> Result<String, PayloadCodecError> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.material())
        .map_err(|_| PayloadCodecError::Malformed("unusable digest key".to_owned()))?;
    mac.update(job_type.as_bytes());
    mac.update(b"\n");
    mac.update(payload);
    let tag = mac.finalize().into_bytes();
    Ok(crate::client::idempotency::lower_hex(&tag[..20]))
}

#[cfg(not(feature = "encryption"))]
pub(crate) fn keyed_digest(
    _key: &PayloadKey,
    _job_type: &str,
    _payload: &[u8],
) -> Result<String, PayloadCodecError> {
    Err(PayloadCodecError::FeatureMissing {
        what: "encrypted",
        feature: "encryption",
    })
}

#[cfg(not(feature = "encryption"))]
pub(crate) fn seal(
    _key: &PayloadKey,
    _aad: &[u8],
    _plain: &[u8],
) -> Result<Vec<u8>, PayloadCodecError> {
    Err(PayloadCodecError::FeatureMissing {
        what: "encrypted",
        feature: "encryption",
    })
}

#[cfg(not(feature = "encryption"))]
pub(crate) fn open(
    key: &PayloadKey,
    aad: &[u8],
    _sealed: &[u8],
) -> Result<Vec<u8>, PayloadCodecError> {
    seal(key, aad, &[])
}
