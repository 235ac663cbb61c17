//! The [`CredentialsProvider`] trait, what it returns, and
//! [`CredentialsSource`], the shared handle a config holds.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

/// A username and password for Redis `AUTH`, and until when they are valid.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The ACL user (`default` for a server with only `requirepass`).
    pub username: String,
    /// The password or token.
    pub password: String,
    /// When the server stops accepting them, if they expire; live
    /// connections re-`AUTH` at 3/4 of the time left.
    pub valid_until: Option<SystemTime>,
}

impl Credentials {
    /// Credentials that do not expire.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            valid_until: None,
        }
    }

    /// The same credentials, valid until `valid_until`.
    #[must_use]
    pub fn valid_until(mut self, valid_until: SystemTime) -> Self {
        self.valid_until = Some(valid_until);
        self
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .field("valid_until", &self.valid_until)
            .finish()
    }
}

/// Why a provider could not give credentials.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// A credentials file could not be read.
    #[error("cannot read credentials file {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The provider's source returned something unusable (an empty
    /// password, a malformed token reply).
    #[error("invalid credentials: {0}")]
    Invalid(String),
    /// The provider's source failed (a token service down, a denied request).
    #[error("credentials provider failed: {0}")]
    Provider(String),
}

/// What [`CredentialsProvider::credentials`] returns: a boxed future, so a
/// provider needs no `futures` dependency of its own.
pub type CredentialsFuture<'a> = BoxFuture<'a, Result<Credentials, CredentialsError>>;

/// Gives the credentials connections log in with; called at every connect
/// and again before the previous credentials expire.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use jobqueue_core::credentials::{Credentials, CredentialsFuture, CredentialsProvider};
///
/// /// Asks a token service for a token valid 15 minutes (IAM style).
/// struct IamTokens;
///
/// impl CredentialsProvider for IamTokens {
///     fn credentials(&self) -> CredentialsFuture<'_> {
///         Box::pin(async {
///             let token = "token-from-the-cloud-sdk".to_owned();
///             let expiry = SystemTime::now() + Duration::from_secs(15 * 60);
///             Ok(Credentials::new("app", token).valid_until(expiry))
///         })
///     }
/// }
/// ```
pub trait CredentialsProvider: Send + Sync + 'static {
    /// Fresh credentials.
    fn credentials(&self) -> CredentialsFuture<'_>;

    /// How often live connections fetch credentials and re-`AUTH` when
    /// the credentials carry no expiry (and at most this long apart when
    /// they do). `None` (the default): only credentials with an expiry are
    /// refreshed.
    fn refresh_interval(&self) -> Option<Duration> {
        None
    }
}

/// A shared handle to a [`CredentialsProvider`], as held by
/// [`crate::store::ConnectionSettings`]. Two sources are equal when they
/// are the same provider.
#[derive(Clone)]
pub struct CredentialsSource(pub(crate) Arc<dyn CredentialsProvider>);

impl CredentialsSource {
    /// Wraps `provider`.
    pub fn new(provider: impl CredentialsProvider) -> Self {
        Self(Arc::new(provider))
    }

    /// Fresh credentials from the provider.
    pub async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        self.0.credentials().await
    }

    /// The provider's refresh interval.
    pub fn refresh_interval(&self) -> Option<Duration> {
        self.0.refresh_interval()
    }
}

impl std::fmt::Debug for CredentialsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsSource(..)")
    }
}

impl PartialEq for CredentialsSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CredentialsSource {}
