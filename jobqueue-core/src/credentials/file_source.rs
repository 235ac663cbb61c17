//! [`FileCredentials`]: a password read from a file at every fetch (the
//! Kubernetes mounted-secret pattern: the kubelet swaps the file when the
//! secret is rotated).

use std::path::PathBuf;
use std::time::Duration;

use crate::credentials::provider::{
    Credentials, CredentialsError, CredentialsFuture, CredentialsProvider,
};

/// Default time between re-reads of the file by live connections.
pub const DEFAULT_FILE_REFRESH: Duration = Duration::from_secs(30);

/// A fixed username and the password in a file, re-read at every connect
/// and every [`FileCredentials::refresh_every`] (default 30 s). Trailing
/// line breaks in the file are ignored; an empty file is an error.
#[derive(Debug, Clone)]
pub struct FileCredentials {
    username: String,
    password_file: PathBuf,
    refresh: Duration,
}

impl FileCredentials {
    /// `username` with the password in `password_file`.
    pub fn new(username: impl Into<String>, password_file: impl Into<PathBuf>) -> Self {
        Self {
            username: username.into(),
            password_file: password_file.into(),
            refresh: DEFAULT_FILE_REFRESH,
        }
    }

    /// How often live connections re-read the file and re-`AUTH`; make it
    /// shorter than the overlap during which the old password still works.
    #[must_use]
    pub fn refresh_every(mut self, interval: Duration) -> Self {
        self.refresh = interval;
        self
    }
}

impl CredentialsProvider for FileCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async {
            let path = self.password_file.clone();
            let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
                .await
                .map_err(|e| CredentialsError::Provider(format!("file reader task: {e}")))?
                .map_err(|source| CredentialsError::File {
                    path: self.password_file.clone(),
                    source,
                })?;
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(CredentialsError::Invalid(format!(
                    "{} holds no password",
                    self.password_file.display()
                )));
            }
            Ok(Credentials::new(self.username.clone(), password))
        })
    }

    fn refresh_interval(&self) -> Option<Duration> {
        Some(self.refresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_is_re_read_at_every_fetch() {
        let path = std::env::temp_dir().join(format!("jq-cred-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "first\n").unwrap();
        let provider = FileCredentials::new("app", &path);
        assert_eq!(provider.credentials().await.unwrap().password, "first");
        std::fs::write(&path, "second").unwrap();
        let creds = provider.credentials().await.unwrap();
        assert_eq!(
            (creds.username.as_str(), creds.password.as_str()),
            ("app", "second")
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            provider.credentials().await,
            Err(CredentialsError::Invalid(_))
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            provider.credentials().await,
            Err(CredentialsError::File { .. })
        ));
    }
}
