//! Waiting in tests until a condition holds, failing the test when it
//! never does.

use std::time::Duration;

use jobqueue_testing::eventually;

/// Waits up to `secs` seconds for `check` to hold; panics naming `what`
/// when it does not.
pub async fn wait_for(what: &str, secs: u64, check: impl AsyncFn() -> bool) {
    assert!(
        eventually(Duration::from_secs(secs), || check()).await,
        "timed out waiting for {what}"
    );
}
