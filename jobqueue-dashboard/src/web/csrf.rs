//! CSRF protection for state-changing requests.
//!
//! Browsers attach basic-auth credentials (and a host application's
//! cookies) to cross-site requests on their own, so a state change is
//! accepted only with this dashboard's CSRF token: in the `csrf` form field
//! (the UI's forms carry it) or the `X-CSRF-Token` header (scripts and the
//! JSON API). Requests authenticated by a bearer token are exempt: a
//! browser never adds that header by itself. The token is random per
//! router, never in a URL, and only readable by pages of this origin.

use axum::http::HeaderMap;

use super::auth::{Principal, constant_time_eq};
use super::error::ApiError;

/// Header scripts send the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Form field the UI's forms send the token in.
pub const CSRF_FIELD: &str = "csrf";

/// A fresh random token (244 random bits from the OS-seeded CSPRNG).
pub(crate) fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Fails with 403 unless the request carries the right token (or a bearer
/// credential), and is not flagged cross-site by the browser.
pub(crate) fn check(
    expected: &str,
    principal: &Principal,
    headers: &HeaderMap,
    form_token: Option<&str>,
) -> Result<(), ApiError> {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "cross-site")
    {
        return Err(ApiError::forbidden("cross-site request refused"));
    }
    if principal.bearer {
        return Ok(());
    }
    let given = form_token.or_else(|| headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()));
    match given {
        Some(token) if constant_time_eq(token, expected) => Ok(()),
        _ => Err(ApiError::forbidden(
            "missing or wrong CSRF token: reload the page and try again",
        )),
    }
}
