//! Rotating credentials: a [`CredentialsProvider`] hook that gives every
//! connection jobqueue opens fresh credentials (cloud IAM tokens that
//! expire, a Kubernetes secret that is rotated), set with
//! [`crate::ClientConfig::credentials_provider`].
//!
//! New connections log in with credentials fetched from the provider at
//! connect time; live command connections re-`AUTH` with fresh credentials
//! before the current ones expire (at 3/4 of their remaining validity, or
//! every [`CredentialsProvider::refresh_interval`]), over redis-rs's
//! streaming-credentials hook. See docs/redis-topologies.md, "Rotating
//! credentials", for what each connection kind does.

mod file_source;
mod provider;
mod refresh;
mod static_source;

pub use file_source::{DEFAULT_FILE_REFRESH, FileCredentials};
pub use provider::{
    Credentials, CredentialsError, CredentialsFuture, CredentialsProvider, CredentialsSource,
};
pub(crate) use refresh::auth_error;
pub use refresh::{MIN_REFRESH_DELAY, refresh_delay};
pub use static_source::StaticCredentials;
