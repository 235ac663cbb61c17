//! CSRF protection for state-changing requests (every method but GET,
//! HEAD and OPTIONS), in one middleware so no handler can forget it.
//!
//! Browsers attach basic-auth credentials (and a host application's
//! cookies) to requests other sites make them send, so a state change is
//! accepted only when:
//!
//! 1. the browser does not flag it as coming from elsewhere:
//!    `Sec-Fetch-Site` is `same-origin` or absent (absent: not a modern
//!    browser, or not a browser), and `Origin` (or, without it, `Referer`)
//!    names this dashboard's own host — the `Host` the request was sent
//!    to, the `X-Forwarded-Host` of a proxy, or a name added with
//!    [`crate::DashboardConfig::allowed_host`]. `Origin: null` is refused.
//!    Browsers cannot forge these headers, and a page elsewhere cannot add
//!    `X-Forwarded-Host` to a request without a CORS preflight, which this
//!    router never grants;
//! 2. the caller may change state (an operator);
//! 3. it carries the caller's own CSRF token, in the `csrf` form field
//!    (the UI's forms carry it) or the `X-CSRF-Token` header (scripts).
//!    Requests authenticated by a bearer token are exempt from this step
//!    only: a browser never adds that header by itself.
//!
//! The token is derived per principal ([`super::csrf_tokens`]): an
//! HMAC-SHA256, under a secret, of how the caller was recognised, their
//! role and their name. One user's token is worthless for another, and
//! read-only users get none (their pages carry no token and no action
//! forms). The secret is random per
//! router unless configured ([`crate::DashboardConfig::csrf_secret`]) for
//! replicas behind a load balancer; it never appears on a page.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jobqueue_core::admin::RefusalReason;

use super::host_check::{authority_of_url, own_authorities};
use super::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Header scripts send the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Form field the UI's forms send the token in.
pub const CSRF_FIELD: &str = "csrf";

/// Largest form body read to find the token (a bulk form with 1000 job
/// ids is about 45 KB).
pub const MAX_FORM_BODY: usize = 256 * 1024;

/// True for methods that change nothing (and need no CSRF check).
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Middleware (inside authentication): refuses state changes that fail
/// any of the checks in the module docs, with 403.
pub(crate) async fn guard_state_changes(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method()) {
        return next.run(request).await;
    }
    let Some(who) = request.extensions().get::<Principal>().cloned() else {
        // Authentication always runs first; without a principal, refuse.
        return ApiError::refused(RefusalReason::Forbidden, "no principal").into_response();
    };
    if let Err(refusal) = check_browser_signals(&state, request.headers()) {
        return refusal.into_response();
    }
    if let Err(refusal) = who.require_operator() {
        return refusal.into_response();
    }
    if who.is_bearer() {
        return next.run(request).await;
    }
    let (request, given) = match token_of(request).await {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    match given {
        Some(token) if state.csrf.verify(&who, &token) => next.run(request).await,
        _ => ApiError::refused(
            RefusalReason::Csrf,
            "missing or wrong CSRF token: reload the page and try again",
        )
        .into_response(),
    }
}

/// Refuses what the browser says comes from another site or origin.
pub(crate) fn check_browser_signals(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{FFFD}"));
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
    {
        return Err(ApiError::refused(
            RefusalReason::Csrf,
            format!("request from another origin refused (Sec-Fetch-Site: {site})"),
        ));
    }
    let (name, claimed) = match (
        text(header::ORIGIN.as_str()),
        text(header::REFERER.as_str()),
    ) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Ok(()),
    };
    let own = own_authorities(&state.config, headers);
    match authority_of_url(claimed) {
        Some(authority) if own.contains(&authority) => Ok(()),
        _ => Err(ApiError::refused(
            RefusalReason::Csrf,
            format!("request from another origin refused ({name}: {claimed})"),
        )),
    }
}

/// The token the request carries (header, or the form body's field), and
/// the request with its body restored.
async fn token_of(request: Request) -> Result<(Request, Option<String>), ApiError> {
    if let Some(token) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        let token = token.to_owned();
        return Ok((request, Some(token)));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BODY).await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("form body larger than {MAX_FORM_BODY} bytes"),
        )
    })?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}
