//! [`StaticCredentials`]: one username and password that never change.

use crate::credentials::provider::{Credentials, CredentialsFuture, CredentialsProvider};

/// The same credentials every time (no refresh); useful in tests and to
/// keep a password out of the URL.
#[derive(Debug, Clone)]
pub struct StaticCredentials(Credentials);

impl StaticCredentials {
    /// Always `username` and `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self(Credentials::new(username, password))
    }
}

impl CredentialsProvider for StaticCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async { Ok(self.0.clone()) })
    }
}
