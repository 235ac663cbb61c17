//! Who is calling: the [`Principal`] authentication attaches to every
//! request (name, role, how they were recognised, their address), and the
//! [`HostUser`] a host application attaches to say who its user is.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use jobqueue_core::admin::RefusalReason;

use crate::config::Role;
use crate::error::ApiError;

/// Who is calling, attached to every authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The name written to the audit log.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// How they were recognised.
    pub source: PrincipalSource,
    /// The client's address, when the server knows it (`jobqueue serve`
    /// does; an embedding application does when it serves with
    /// `into_make_service_with_connect_info`).
    pub client: Option<IpAddr>,
    /// The SHA-256 (hex) of the session id, for a signed-in browser: its
    /// CSRF token is bound to the session, so it dies with it.
    pub(crate) session: Option<String>,
}

/// How a [`Principal`] was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalSource {
    /// An `Authorization: Bearer` token, which browsers never attach on
    /// their own (so a forged cross-site request cannot carry it).
    Bearer,
    /// HTTP basic auth (browsers re-send it on their own).
    Basic,
    /// A [`HostUser`] the host application attached.
    HostUser,
    /// A browser's sign-in session (its cookie), opened on the `/login`
    /// page with one of the configured credentials.
    Session,
    /// No credentials, on a router that lets anonymous callers in.
    Anonymous,
}

impl PrincipalSource {
    /// A short tag for the CSRF token's input.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::Basic => "basic",
            Self::HostUser => "host",
            Self::Session => "session",
            Self::Anonymous => "anonymous",
        }
    }
}

impl Principal {
    /// `name` with `role`, recognised by `source` (no address, no session
    /// yet).
    pub(crate) fn new(name: &str, role: Role, source: PrincipalSource) -> Self {
        Self {
            name: name.to_owned(),
            role,
            source,
            client: None,
            session: None,
        }
    }

    /// True when the credential came in an `Authorization: Bearer` header.
    pub fn is_bearer(&self) -> bool {
        self.source == PrincipalSource::Bearer
    }

    /// Fails with 403 unless the caller may change state.
    pub fn require_operator(&self) -> Result<(), ApiError> {
        if self.role == Role::Operator {
            Ok(())
        } else {
            Err(ApiError::refused(
                RefusalReason::Forbidden,
                "read-only access: this action needs operator credentials",
            ))
        }
    }
}

/// Who the user is, as a host application that nests the dashboard knows
/// it: insert one into the request's extensions in your own middleware and
/// the dashboard uses it (for the role and the audit log) instead of its
/// own credentials. With [`crate::DashboardConfig::host_auth`], requests
/// without one are refused.
///
/// ```
/// use axum::{extract::Request, middleware::Next, response::Response};
/// use jobqueue_dashboard::{HostUser, Role};
///
/// async fn tell_dashboard_who(mut request: Request, next: Next) -> Response {
///     // ... after your own authentication found the user:
///     request.extensions_mut().insert(HostUser { name: "ada".into(), role: Role::Operator });
///     next.run(request).await
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUser {
    /// Name for the audit log.
    pub name: String,
    /// What they may do (still capped by [`crate::DashboardConfig::read_only`]).
    pub role: Role,
}

/// The peer's address, when the server recorded it.
pub(crate) fn client_address(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}
