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
//! The token is derived per principal: an HMAC-SHA256, under a secret, of
//! how the caller was recognised, their role and their name. One user's
//! token is worthless for another, and read-only users get none (their
//! pages carry no token and no action forms). The secret is random per
//! router unless configured ([`crate::DashboardConfig::csrf_secret`]) for
//! replicas behind a load balancer; it never appears on a page.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use jobqueue_core::admin::RefusalReason;
use sha2::Sha256;

use super::auth::{Principal, is_safe};
use super::config::Role;
use super::error::ApiError;
use super::host_check::{authority_of_url, own_authorities};
use super::state::AppState;

/// Header scripts send the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Form field the UI's forms send the token in.
pub const CSRF_FIELD: &str = "csrf";

/// Largest form body read to find the token (a bulk form with 1000 job
/// ids is about 45 KB).
pub const MAX_FORM_BODY: usize = 256 * 1024;

/// Versions the token's input, so a future change of scheme cannot
/// collide with this one.
const TOKEN_CONTEXT: &[u8] = b"jobqueue-dashboard csrf v1";

type HmacSha256 = Hmac<Sha256>;

/// Derives and checks the per-principal tokens of one router.
pub(crate) struct CsrfTokens {
    secret: Vec<u8>,
}

impl CsrfTokens {
    /// Tokens under `secret`, or under a fresh random secret (244 bits from
    /// the OS-seeded CSPRNG behind UUID v4).
    pub(crate) fn new(secret: Option<&str>) -> Self {
        let secret = match secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                let mut random = uuid::Uuid::new_v4().as_bytes().to_vec();
                random.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                random
            }
        };
        Self { secret }
    }

    /// The MAC of `who`'s identity, ready for a final step.
    fn mac(&self, who: &Principal) -> HmacSha256 {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        for part in [
            TOKEN_CONTEXT,
            who.source.tag().as_bytes(),
            who.role.as_str().as_bytes(),
            who.name.as_bytes(),
        ] {
            // Length-prefixed, so no two identities give the same input.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// `who`'s token (64 hex digits), or `None` for a read-only caller:
    /// they may change nothing, so their pages carry no token.
    pub(crate) fn token_for(&self, who: &Principal) -> Option<String> {
        if who.role != Role::Operator {
            return None;
        }
        let tag = self.mac(who).finalize().into_bytes();
        Some(tag.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// True when `given` is `who`'s token (compared in constant time).
    fn verify(&self, who: &Principal, given: &str) -> bool {
        let Some(bytes) = decode_hex(given) else {
            return false;
        };
        self.mac(who).verify_slice(&bytes).is_ok()
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
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
fn check_browser_signals(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::auth::PrincipalSource;

    fn who(name: &str, role: Role, source: PrincipalSource) -> Principal {
        Principal {
            name: name.to_owned(),
            role,
            source,
            client: None,
        }
    }

    #[test]
    fn tokens_differ_per_principal_and_secret() {
        let tokens = CsrfTokens::new(Some("s"));
        let ada = who("ada", Role::Operator, PrincipalSource::Basic);
        let token = tokens.token_for(&ada).unwrap();
        assert_eq!(token.len(), 64);
        assert!(tokens.verify(&ada, &token));
        assert!(!tokens.verify(&who("bob", Role::Operator, PrincipalSource::Basic), &token));
        assert!(!tokens.verify(
            &who("ada", Role::Operator, PrincipalSource::HostUser),
            &token
        ));
        assert!(!CsrfTokens::new(Some("t")).verify(&ada, &token));
        assert_eq!(CsrfTokens::new(Some("s")).token_for(&ada), Some(token));
        assert_eq!(
            tokens.token_for(&who("ada", Role::ReadOnly, PrincipalSource::Basic)),
            None
        );
        assert!(!tokens.verify(&ada, "zz"));
    }
}
