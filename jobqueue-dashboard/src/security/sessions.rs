//! Browser sign-in sessions: the cookie and what it stands for.
//!
//! Signing in on the `/login` page (`ui/sign_in.rs`) makes a random 256-bit
//! session id, sends it to the browser in the `jobqueue_session` cookie
//! and stores only its SHA-256 in Redis, with who signed in
//! (`jobqueue_core::admin::Admin::open_dashboard_session`). Each request
//! with the cookie looks the session up (renewing its idle timeout, never
//! past its absolute lifetime) and becomes that principal — with the role
//! the configuration gives that credential *now*: a credential removed
//! from the configuration ends its sessions.
//!
//! The cookies are `HttpOnly` (no script reads them), `SameSite=Strict`
//! (no other site's page or link sends them), `Path` the dashboard's base
//! path, and `Secure` unless configured off
//! ([`crate::DashboardConfig::secure_cookies`]).

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use base64::Engine;
use jobqueue_core::admin::DashboardSession;
use sha2::{Digest, Sha256};

use super::credentials::current_role;
use super::principal::{Principal, PrincipalSource};
use crate::config::{DashboardConfig, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "jobqueue_session";

/// The sign-in form's nonce cookie (login CSRF, see `csrf_tokens.rs`).
pub(crate) const SIGN_IN_COOKIE: &str = "jobqueue_sign_in";

/// Random bytes in a session id.
const SESSION_ID_BYTES: usize = 32;

/// `bytes` random bytes from the operating system, base64url without
/// padding (cookie-safe).
pub(crate) fn random_token(bytes: usize) -> Result<String, ApiError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|err| {
        tracing::error!(error = %err, "the operating system gave no random bytes");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no random bytes for a session: try again",
        )
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

/// The SHA-256 of `value`, in lowercase hex: what Redis stores of a
/// session id, and how a user name is named in the throttle's keys.
pub(crate) fn digest(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every value of the cookie `name` the request carries (a browser may
/// send two of one name, from different paths).
pub(crate) fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(header::COOKIE)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value.trim_matches('"'))
        })
}

/// True when `value` looks like one of our random tokens.
fn is_token(value: &str) -> bool {
    (16..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A `Set-Cookie` value for `name` (a token: no quoting needed) under the
/// dashboard's path, living `max_age` (zero: delete it).
pub(crate) fn set_cookie(
    config: &DashboardConfig,
    name: &str,
    value: &str,
    max_age: Duration,
) -> HeaderValue {
    // A base path that could end the attribute (`;`) is never written
    // into the header: the cookie then covers the whole site.
    let plain = config
        .base_path
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\'));
    let path = if config.base_path.is_empty() || !plain {
        "/"
    } else {
        config.base_path.as_str()
    };
    let secure = if config.sign_in.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.as_secs()
    );
    // The base path is checked to be a plain path when configured; a
    // header value cannot fail on what is left, but never panic.
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("jobqueue=; Max-Age=0"))
}

/// Opens a session for the credential of `kind` named `name` with `role`:
/// the `Set-Cookie` value that gives it to the browser.
pub(crate) async fn open(
    state: &AppState,
    kind: &str,
    name: &str,
    role: Role,
) -> Result<HeaderValue, ApiError> {
    let id = random_token(SESSION_ID_BYTES)?;
    let settings = &state.config.sign_in;
    let record = DashboardSession {
        name: name.to_owned(),
        kind: kind.to_owned(),
        role: role.as_str().to_owned(),
        expires_at: chrono::Utc::now(),
    };
    state
        .admin
        .open_dashboard_session(
            &digest(&id),
            &record,
            settings.idle_timeout,
            settings.lifetime,
        )
        .await?;
    Ok(set_cookie(
        &state.config,
        SESSION_COOKIE,
        &id,
        settings.lifetime,
    ))
}

/// Most session cookies of one request looked up in Redis: a browser sends
/// one, or two from different paths; a request with thousands must not
/// cost thousands of Redis calls.
const MAX_SESSION_COOKIES: usize = 3;

/// The distinct session ids the request's cookies name, at most
/// [`MAX_SESSION_COOKIES`].
fn session_ids(headers: &HeaderMap) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for id in cookies(headers, SESSION_COOKIE).filter(|v| is_token(v)) {
        if ids.len() == MAX_SESSION_COOKIES {
            break;
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The principal of the live session the request's cookie names, if any.
pub(crate) async fn principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    for id in session_ids(headers) {
        let id_digest = digest(id);
        let Some(session) = state
            .admin
            .dashboard_session(&id_digest, state.config.sign_in.idle_timeout)
            .await?
        else {
            continue;
        };
        let Some(role) = current_role(&state.config.credentials, &session.kind, &session.name)
        else {
            // The credential left the configuration: so does its session.
            state.admin.end_dashboard_session(&id_digest).await?;
            continue;
        };
        let mut who = Principal::new(&session.name, role, PrincipalSource::Session);
        who.session = Some(id_digest);
        return Ok(Some(who));
    }
    Ok(None)
}

/// The digests of the sessions the request's cookies name (to end them).
pub(crate) fn cookie_digests(headers: &HeaderMap) -> Vec<String> {
    session_ids(headers).into_iter().map(digest).collect()
}

/// The sign-in nonce the request's cookie carries, if it looks like one.
pub(crate) fn sign_in_nonce(headers: &HeaderMap) -> Option<&str> {
    cookies(headers, SIGN_IN_COOKIE).find(|v| is_token(v))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{MAX_SESSION_COOKIES, SESSION_COOKIE, session_ids};

    #[test]
    fn a_request_names_at_most_a_few_distinct_sessions() {
        let token = |i: usize| format!("{i:0>32}");
        let many: Vec<String> = (0..1000)
            .map(|i| format!("{SESSION_COOKIE}={}", token(i)))
            .collect();
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&many.join("; ")).expect("ASCII");
        headers.insert(header::COOKIE, value);
        assert_eq!(session_ids(&headers).len(), MAX_SESSION_COOKIES);

        let twice = format!("{SESSION_COOKIE}={0}; {SESSION_COOKIE}={0}", token(7));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&twice).expect("ASCII"),
        );
        assert_eq!(session_ids(&headers), [token(7).as_str()]);
    }
}
