//! Authentication: every request is matched against the configured
//! credentials (or the [`HostUser`] a host application attached) and gets
//! a [`Principal`] (who, and what they may do), or is refused with 401.
//! State changes are then checked by [`super::csrf`] (origin, role,
//! token), and the actions check the role again.
//!
//! This layer also writes refusals to the audit log (rate-bounded, see
//! `jobqueue_core::admin::Admin::record_refusal`): its own 401s when credentials
//! were sent but wrong or a state change came without any, and every
//! refusal an inner layer marked on its response.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jobqueue_core::admin::RefusalReason;

use super::csrf::is_safe;
use super::principal::{HostUser, Principal, PrincipalSource, client_address};
use crate::audit_log;
use crate::config::Credential;
use crate::error::ApiError;
use crate::state::AppState;

/// Middleware: resolves the caller or answers 401, and audits refusals.
pub(crate) async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let header_value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let sent_credentials = request.headers().contains_key(header::AUTHORIZATION);
    // A host application that mounts the router says who the user is by
    // inserting a `HostUser` (only server-side code can do that).
    let host_user = request
        .extensions()
        .get::<HostUser>()
        .map(|user| Principal {
            name: user.name.clone(),
            role: user.role,
            source: PrincipalSource::HostUser,
            client: None,
        });
    let principal = host_user
        .or_else(|| match header_value {
            Some(value) => match_credential(&state.config.credentials, &value),
            None => None,
        })
        .or_else(|| {
            state.config.anonymous_role.map(|role| Principal {
                name: "anonymous".to_owned(),
                role,
                source: PrincipalSource::Anonymous,
                client: None,
            })
        });
    let request_line = audit_log::RequestLine::of(&request);
    let Some(mut principal) = principal else {
        // A browser's first visit comes without credentials (the 401 makes
        // it ask for them): only wrong credentials, or a state change
        // without any, are attempts worth recording.
        if sent_credentials || !is_safe(request.method()) {
            audit_log::refusal(&state, RefusalReason::Unauthenticated, None, &request_line).await;
        }
        return ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "authentication required: send a bearer token or basic-auth credentials",
        )
        .into_response();
    };
    principal.role = state.config.effective(principal.role);
    principal.client = client_address(&request);
    request.extensions_mut().insert(principal.clone());
    let response = next.run(request).await;
    if let Some(reason) = response.extensions().get::<RefusalReason>() {
        audit_log::refusal(&state, *reason, Some(&principal), &request_line).await;
    }
    response
}

/// The principal for an `Authorization` header value, if it matches.
fn match_credential(credentials: &[Credential], header_value: &str) -> Option<Principal> {
    let (scheme, rest) = header_value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        credentials.iter().find_map(|c| match c {
            Credential::Bearer { token, label, role } if constant_time_eq(token, rest) => {
                Some(Principal {
                    name: label.clone(),
                    role: *role,
                    source: PrincipalSource::Bearer,
                    client: None,
                })
            }
            _ => None,
        })
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (given_user, given_password) = decoded.split_once(':')?;
        credentials.iter().find_map(|c| match c {
            Credential::Basic {
                user,
                password,
                role,
            } if constant_time_eq(user, given_user)
                & constant_time_eq(password, given_password) =>
            {
                Some(Principal {
                    name: user.clone(),
                    role: *role,
                    source: PrincipalSource::Basic,
                    client: None,
                })
            }
            _ => None,
        })
    } else {
        None
    }
}

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Role;

    #[test]
    fn matches_bearer_and_basic() {
        let creds = vec![
            Credential::Bearer {
                token: "t0k".into(),
                label: "ci".into(),
                role: Role::ReadOnly,
            },
            Credential::Basic {
                user: "ops".into(),
                password: "pw:x".into(),
                role: Role::Operator,
            },
        ];
        let p = match_credential(&creds, "Bearer t0k").unwrap();
        assert_eq!(
            (p.name.as_str(), p.role, p.is_bearer()),
            ("ci", Role::ReadOnly, true)
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("ops:pw:x");
        let p = match_credential(&creds, &format!("Basic {basic}")).unwrap();
        assert_eq!((p.name.as_str(), p.role), ("ops", Role::Operator));
        assert!(match_credential(&creds, "Bearer wrong").is_none());
        assert!(match_credential(&creds, "Basic !!!").is_none());
        assert!(match_credential(&creds, "Digest x").is_none());
    }
}
