//! Writing the audit log from the dashboard: actions that changed
//! something, and refused requests (rate-bounded in Redis, see
//! `jobqueue_core::admin::Admin::record_refusal`). A failure to write is
//! logged, never fatal: the action already happened and must be reported,
//! and a refusal is answered either way.

use axum::extract::{OriginalUri, Request};
use jobqueue_core::admin::{AuditEntry, RefusalReason};

use crate::security::principal::{Principal, client_address};
use crate::state::AppState;

/// What the audit log records of a request: method, path (as the client
/// sent it, mount point included) and client address.
#[derive(Debug, Clone)]
pub(crate) struct RequestLine {
    method: String,
    path: String,
    client: Option<String>,
}

impl RequestLine {
    pub(crate) fn of(request: &Request) -> Self {
        let uri = request
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| request.uri(), |OriginalUri(uri)| uri);
        Self {
            method: request.method().as_str().to_owned(),
            path: uri.path().to_owned(),
            client: client_address(request).map(|ip| ip.to_string()),
        }
    }
}

/// Records an action that changed something (`count` jobs, or a setting
/// when 0). Callers do not call it for actions that changed nothing.
pub(crate) async fn action(
    state: &AppState,
    who: &Principal,
    action: &str,
    target: &str,
    count: u64,
) {
    let entry = AuditEntry::now(&who.name, action, target, count)
        .role(who.role.as_str())
        .client(who.client.map(|ip| ip.to_string()));
    if let Err(err) = state.admin.record_audit(&entry).await {
        tracing::warn!(error = %err, action, target, "could not write the audit log");
    }
}

/// Records a refused request (at most so many per minute per reason).
pub(crate) async fn refusal(
    state: &AppState,
    reason: RefusalReason,
    who: Option<&Principal>,
    request: &RequestLine,
) {
    let mut entry = AuditEntry::now(
        who.map_or("unauthenticated", |p| p.name.as_str()),
        &request.method,
        &request.path,
        0,
    )
    .client(request.client.clone());
    if let Some(who) = who {
        entry = entry.role(who.role.as_str());
    }
    if let Err(err) = state.admin.record_refusal(reason, &entry).await {
        tracing::warn!(error = %err, outcome = reason.outcome(), "could not write a refusal to the audit log");
    }
}
