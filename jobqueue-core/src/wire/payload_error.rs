//! [`PayloadCodecError`]: why a payload could not be encoded or decoded
//! (re-exported by [`crate::wire::payload_codec`]), shared by the codec,
//! the keyring and the primitives.

/// Why a payload could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadCodecError {
    /// The record names an encoding this version does not know.
    #[error(
        "unknown payload encoding '{0}' (this reader knows zstd and xchacha20poly1305:<key id>)"
    )]
    UnknownEncoding(String),
    /// The encoding needs a cargo feature this build lacks.
    #[error("the payload is {what}, but this build lacks jobqueue's `{feature}` cargo feature")]
    FeatureMissing {
        /// What the payload is (`zstd-compressed`, `encrypted`).
        what: &'static str,
        /// The feature that reads it.
        feature: &'static str,
    },
    /// Encrypted, but this process has no keys.
    #[error(
        "the payload is encrypted with key '{key_id}', but no payload keys are configured \
         (JOBQUEUE_PAYLOAD_KEYS)"
    )]
    NoKeyring {
        /// The key the record names.
        key_id: String,
    },
    /// Encrypted under a key the keyring does not hold.
    #[error(
        "the payload is encrypted with key '{key_id}', which is not in the keyring (keys: {known})"
    )]
    UnknownKey {
        /// The key the record names.
        key_id: String,
        /// The ids the keyring holds, comma-separated.
        known: String,
    },
    /// The ciphertext failed authentication.
    #[error(
        "the payload encrypted with key '{key_id}' failed authentication: it was changed, or \
         another key was given the same id"
    )]
    NotAuthentic {
        /// The key the record names.
        key_id: String,
    },
    /// The stored bytes are not what the encoding says.
    #[error("the encoded payload is malformed: {0}")]
    Malformed(String),
    /// A compressed payload expands past
    /// [`crate::wire::payload_codec::MAX_DECODED_BYTES`].
    #[error("the compressed payload expands past {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A key or a keyring setting is invalid.
    #[error("invalid payload key: {0}")]
    InvalidKey(String),
    /// The system gave no randomness for a nonce.
    #[error("{0}")]
    Random(String),
}
