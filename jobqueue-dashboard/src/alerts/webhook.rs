//! The webhook sink: a firing POSTed as JSON, signed, with a timeout and
//! bounded retries.
//!
//! The body has a `text` field (what Slack-compatible incoming webhooks
//! show) and the firing's structured fields. With a secret, each request
//! carries `X-Jobqueue-Timestamp` (Unix seconds) and
//! `X-Jobqueue-Signature: sha256=<hex>`, the HMAC-SHA256 of
//! `<timestamp>.<body>` under the secret; a receiver recomputes it and
//! refuses old timestamps (see `docs/alerts.md`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::alerts::config::WebhookSink;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Jobqueue-Signature";
/// The timestamp header (Unix seconds, part of what is signed).
pub const TIMESTAMP_HEADER: &str = "X-Jobqueue-Timestamp";

/// First wait before a retry; doubled each time, at most [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What a sink receives.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookBody<'a> {
    /// One line for people (Slack shows it).
    pub text: String,
    /// The rule's name.
    pub rule: &'a str,
    /// The rule's kind.
    pub kind: &'a str,
    /// What the firing is about (dedup key).
    pub fingerprint: &'a str,
    /// What happened.
    pub message: &'a str,
    /// When the evaluator fired it (RFC 3339).
    pub fired_at: String,
    /// The key prefix of the jobqueue installation.
    pub prefix: &'a str,
    /// A test firing (`jobqueue alerts test`), not a real condition.
    pub test: bool,
    /// Firings this sink's rate limit suppressed since its last one.
    pub suppressed_before: u64,
}

/// `sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + 2 * digest.len());
    hex.push_str("sha256=");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Why a delivery failed (after its retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeliveryFailure {
    /// Tries made.
    pub(crate) attempts: u32,
    /// The last error, in words (no URL: it is a credential).
    pub(crate) message: String,
}

/// POSTs `body` to `sink`, retrying connection errors, timeouts, 429 and
/// 5xx answers up to the sink's attempts with a doubling backoff; other
/// answers are final. Returns the tries it took.
pub(crate) async fn deliver(
    client: &reqwest::Client,
    sink: &WebhookSink,
    body: &[u8],
) -> Result<u32, DeliveryFailure> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let timestamp = chrono::Utc::now().timestamp();
        let mut request = client
            .post(sink.url.clone())
            .timeout(sink.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .body(body.to_vec());
        if let Some(secret) = &sink.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, timestamp, body));
        }
        let (retryable, message) = match request.send().await {
            Ok(response) if response.status().is_success() => return Ok(attempt),
            Ok(response) => {
                let status = response.status();
                (
                    status.is_server_error() || status.as_u16() == 429,
                    format!("answered {status}"),
                )
            }
            // Without the URL: a Slack webhook's URL is its credential.
            Err(err) => (true, describe(&err.without_url())),
        };
        if !retryable || attempt >= sink.attempts {
            return Err(DeliveryFailure {
                attempts: attempt,
                message,
            });
        }
        tracing::debug!(sink = %sink.name, attempt, %message, "webhook failed, retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The error in words, with its causes (a TLS refusal says why), never
/// the URL.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    let mut text = if err.is_connect() {
        "could not connect".to_owned()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Against a value computed independently
        // (python3 -c "import hmac,hashlib;print(hmac.new(b'key',b'1700000000.{}',hashlib.sha256).hexdigest())").
        assert_eq!(
            signature("key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
