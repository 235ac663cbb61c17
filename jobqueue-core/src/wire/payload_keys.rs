//! Payload encryption keys: a [`Keyring`] holds one *active* key, which
//! encrypts new payloads, and older keys that still decrypt payloads
//! written under them until `jobqueue keys rotate` re-encrypted those.
//!
//! Each key has an id (written in the record's envelope, so a reader knows
//! which key to use) and 32 bytes of key material. Key material never
//! appears in `Debug` output or logs: only the ids do.
//!
//! From the environment, `JOBQUEUE_PAYLOAD_KEYS` lists the keys as
//! `id:base64,id:base64`, the first being the active one:
//!
//! ```
//! use jobqueue_core::wire::payload_keys::Keyring;
//!
//! // Two keys: k2 encrypts, k1 still decrypts what it encrypted.
//! let keyring = Keyring::parse(
//!     "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
//! )?;
//! assert_eq!(keyring.active().id(), "k2");
//! assert_eq!(keyring.ids().collect::<Vec<_>>(), ["k2", "k1"]);
//! assert!(!format!("{keyring:?}").contains("AgIC"));
//! # Ok::<(), jobqueue_core::wire::payload_codec::PayloadCodecError>(())
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::wire::payload_error::PayloadCodecError;

/// Environment variable holding the keyring: `id:base64,id:base64`, the
/// first key active (see [`Keyring::from_env`]).
pub const ENV_PAYLOAD_KEYS: &str = "JOBQUEUE_PAYLOAD_KEYS";

/// Bytes of key material per key (XChaCha20-Poly1305 takes 256-bit keys).
pub const KEY_BYTES: usize = 32;

/// Longest key id, in bytes: the id is written into every encrypted
/// record's envelope, so it stays short.
pub const MAX_KEY_ID_BYTES: usize = 32;

/// One payload key: its id and its 32 bytes of material.
#[derive(Clone, PartialEq, Eq)]
pub struct PayloadKey {
    id: String,
    material: [u8; KEY_BYTES],
}

impl PayloadKey {
    /// A key named `id` (1-32 characters of `A-Z a-z 0-9 _ - .`).
    pub fn new(id: &str, material: [u8; KEY_BYTES]) -> Result<Self, PayloadCodecError> {
        validate_key_id(id)?;
        Ok(Self {
            id: id.to_owned(),
            material,
        })
    }

    /// A key named `id` whose material is `encoded`, 32 bytes in standard
    /// base64 (`openssl rand -base64 32` makes one).
    pub fn from_base64(id: &str, encoded: &str) -> Result<Self, PayloadCodecError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| PayloadCodecError::InvalidKey(format!("key '{id}' is not base64")))?;
        let material: [u8; KEY_BYTES] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            PayloadCodecError::InvalidKey(format!(
                "key '{id}' has {} bytes, {KEY_BYTES} expected",
                bytes.len()
            ))
        })?;
        Self::new(id, material)
    }

    /// The key's id, as records name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key material (for the cipher only).
    #[cfg(feature = "encryption")]
    pub(crate) fn material(&self) -> &[u8; KEY_BYTES] {
        &self.material
    }
}

impl fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayloadKey")
            .field("id", &self.id)
            .field("material", &"<redacted>")
            .finish()
    }
}

/// The keys a process encrypts and decrypts payloads with: the first is
/// active (encrypts), every one decrypts.
#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    keys: Vec<PayloadKey>,
}

impl Keyring {
    /// A keyring whose only key, `active`, encrypts and decrypts.
    pub fn new(active: PayloadKey) -> Self {
        Self { keys: vec![active] }
    }

    /// Adds an older key, used only to decrypt; fails on a repeated id.
    pub fn with_key(mut self, key: PayloadKey) -> Result<Self, PayloadCodecError> {
        if self.get(key.id()).is_some() {
            return Err(PayloadCodecError::InvalidKey(format!(
                "key id '{}' is given twice",
                key.id()
            )));
        }
        self.keys.push(key);
        Ok(self)
    }

    /// Parses `id:base64,id:base64` (the first key active); whitespace
    /// around entries is ignored.
    pub fn parse(spec: &str) -> Result<Self, PayloadCodecError> {
        let mut entries = spec.split(',').map(str::trim).filter(|e| !e.is_empty());
        let first = entries
            .next()
            .ok_or_else(|| PayloadCodecError::InvalidKey("no key given".to_owned()))?;
        let mut keyring = Self::new(parse_entry(first)?);
        for entry in entries {
            keyring = keyring.with_key(parse_entry(entry)?)?;
        }
        Ok(keyring)
    }

    /// The keyring in `JOBQUEUE_PAYLOAD_KEYS`; `None` when it is unset or
    /// empty.
    pub fn from_env() -> Result<Option<Self>, PayloadCodecError> {
        match std::env::var(ENV_PAYLOAD_KEYS) {
            Ok(spec) if !spec.trim().is_empty() => Self::parse(&spec).map(Some),
            _ => Ok(None),
        }
    }

    /// The key new payloads are encrypted with.
    pub fn active(&self) -> &PayloadKey {
        // A keyring is built with its active key and never loses one.
        &self.keys[0]
    }

    /// The key named `id`, if the keyring holds it.
    pub fn get(&self, id: &str) -> Option<&PayloadKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    /// Every key id, the active one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(PayloadKey::id)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

/// One `id:base64` entry.
fn parse_entry(entry: &str) -> Result<PayloadKey, PayloadCodecError> {
    let (id, material) = entry.split_once(':').ok_or_else(|| {
        PayloadCodecError::InvalidKey(
            "a key entry must be `id:base64` (entries separated by commas)".to_owned(),
        )
    })?;
    PayloadKey::from_base64(id.trim(), material)
}

/// Checks a key id: 1-32 characters of `A-Z a-z 0-9 _ - .` (it is written
/// into the envelope's `enc` member, after a `:`).
fn validate_key_id(id: &str) -> Result<(), PayloadCodecError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_KEY_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(PayloadCodecError::InvalidKey(format!(
            "key id '{}' must be 1-{MAX_KEY_ID_BYTES} characters of A-Z a-z 0-9 _ - .",
            id.escape_debug()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        let refused = |spec: &str| Keyring::parse(spec).unwrap_err().to_string();
        assert!(refused("").contains("no key"));
        assert!(refused("k1").contains("id:base64"));
        assert!(refused("k1:not base64!").contains("not base64"));
        assert!(refused("k1:AQID").contains("3 bytes, 32 expected"));
        assert!(refused(&format!("k1:{K1},k1:{K1}")).contains("twice"));
        assert!(refused(&format!("k:1:{K1}")).contains("not base64"));
        assert!(refused(&format!("a+b:{K1}")).contains("must be 1-32"));
    }

    #[test]
    fn debug_output_names_ids_never_material() {
        let keyring = Keyring::parse(&format!(" k1:{K1} ")).unwrap();
        let shown = format!("{keyring:?} {:?}", keyring.active());
        assert!(shown.contains("k1"));
        assert!(!shown.contains("AQEB") && !shown.contains("1, 1, 1"));
    }
}
