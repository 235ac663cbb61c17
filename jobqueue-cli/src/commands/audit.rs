//! The audit-log entry of a command that changed something, recorded as
//! `cli:<user>@<host>` (the dashboard's Audit log page shows it).

use jobqueue_core::Client;
use jobqueue_core::admin::AuditEntry;

/// Records an action that changed something (callers skip the ones that
/// did not: a flood of no-ops must not push real actions out of the
/// capped log); a failure to write the log is reported, not fatal.
pub(crate) async fn audit(client: &Client, action: &str, target: &str, count: u64) {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let entry = AuditEntry::now(&format!("cli:{user}@{host}"), action, target, count);
    if let Err(err) = client.admin().record_audit(&entry).await {
        eprintln!("warning: could not write the audit log: {err}");
    }
}
