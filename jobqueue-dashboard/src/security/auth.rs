//! Authentication: every request is matched against the configured
//! credentials (an `Authorization` header, or a browser's sign-in session
//! cookie), or the [`HostUser`] a host application attached, and gets a
//! [`Principal`] (who, and what they may do). Without one, a browser
//! asking for a page is sent to the sign-in page (or the host's login
//! page, [`crate::DashboardConfig::host_login_url`]); anything else gets
//! 401. State changes are then checked by [`super::csrf`] (origin, role,
//! token), and the actions check the role again.
//!
//! This layer also writes refusals to the audit log (rate-bounded, see
//! `jobqueue_core::admin::Admin::record_refusal`): its own 401s when credentials
//! were sent but wrong or a state change came without any, and every
//! refusal an inner layer marked on its response.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use jobqueue_core::admin::RefusalReason;

use super::credentials::match_header;
use super::csrf::is_safe;
use super::header_throttle::{ATTEMPT_WINDOW, HeaderAttempt};
use super::principal::{HostUser, Principal, PrincipalSource, client_address};
use super::sessions;
use crate::audit_log;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error_page::wants_html;

/// Middleware: resolves the caller or refuses, and audits refusals.
pub(crate) async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let host_user = request.extensions().get::<HostUser>().cloned();
    let request_line = audit_log::RequestLine::of(&request);
    let attempt = header_attempt(&state, &request);
    if let Some(wait) = attempt
        .as_ref()
        .and_then(|a| state.header_throttle.blocked_for(a))
    {
        return throttled(&state, wait, &request_line).await;
    }
    let principal = match resolve(&state, host_user, request.headers()).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let Some(mut principal) = principal else {
        if let Some(attempt) = &attempt
            && let Some(wait) = count_wrong_header(&state, attempt).await
        {
            return throttled(&state, wait, &request_line).await;
        }
        if let Some(redirect) = sign_in_redirect(&state, &request) {
            return redirect;
        }
        // A browser's first visit comes without credentials: only wrong
        // credentials, or a state change without any, are attempts worth
        // recording.
        let sent_credentials = request.headers().contains_key(header::AUTHORIZATION);
        if sent_credentials || !is_safe(request.method()) {
            audit_log::refusal(&state, RefusalReason::Unauthenticated, None, &request_line).await;
        }
        let mut refused = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication required: send a bearer token or basic-auth credentials",
        )
        .into_response();
        // A browser's script (the overview's polling after its session
        // ended) must not make the browser pop up a basic-auth prompt: it
        // signs in on the sign-in page. Browsers mark every request with
        // `Sec-Fetch-Mode`; other clients keep the challenge.
        if state.config.has_sign_in() && request.headers().contains_key("sec-fetch-mode") {
            refused.headers_mut().remove(header::WWW_AUTHENTICATE);
        }
        return refused;
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

/// The attempt an `Authorization` header makes, when credentials are
/// configured (only those can be guessed).
fn header_attempt(state: &AppState, request: &Request) -> Option<HeaderAttempt> {
    if !state.config.has_credentials() {
        return None;
    }
    let value = request.headers().get(header::AUTHORIZATION)?;
    let value = String::from_utf8_lossy(value.as_bytes());
    Some(HeaderAttempt::of(&value, client_address(request)))
}

/// Counts a wrong header as a sign-in attempt; how long to refuse its
/// sender when over a limit. A bearer token is counted per address only
/// (every token would share one user count, and anyone could lock them
/// all out). A Redis failure counts nothing (the header was refused anyway).
async fn count_wrong_header(state: &AppState, attempt: &HeaderAttempt) -> Option<Duration> {
    let settings = &state.config.sign_in;
    let per_user = if attempt.user().is_some() {
        settings.attempts_per_user
    } else {
        0
    };
    let user_digest = sessions::digest(attempt.user().unwrap_or_default());
    let client = attempt.client().map(|ip| ip.to_string());
    let limits = (settings.attempts_per_client, per_user);
    let counted = state
        .admin
        .login_attempt(client.as_deref(), &user_digest, limits, ATTEMPT_WINDOW)
        .await;
    let wait = match counted {
        Ok(wait) => wait?,
        Err(error) => {
            tracing::warn!(%error, "could not count a wrong Authorization header");
            return None;
        }
    };
    state.header_throttle.block(attempt, wait);
    Some(wait)
}

/// 429 for a sender over its limit of wrong credentials, audited.
async fn throttled(
    state: &AppState,
    wait: Duration,
    request_line: &audit_log::RequestLine,
) -> Response {
    audit_log::refusal(state, RefusalReason::Throttled, None, request_line).await;
    let seconds = wait.as_secs().max(1);
    let message = format!("too many wrong credentials: try again in {seconds} s");
    let mut refused = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
    refused
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    refused
}

/// Who the request comes from: the host application's [`HostUser`] (only
/// server-side code can attach one), else a matching `Authorization`
/// header, else a live session cookie, else the anonymous role if the
/// configuration has one.
async fn resolve(
    state: &AppState,
    host_user: Option<HostUser>,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    if let Some(user) = host_user {
        return Ok(Some(Principal::new(
            &user.name,
            user.role,
            PrincipalSource::HostUser,
        )));
    }
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(found) = match_header(&state.config.credentials, value)
    {
        return Ok(Some(found));
    }
    if state.config.has_sign_in()
        && let Some(found) = sessions::principal(state, headers).await?
    {
        return Ok(Some(found));
    }
    Ok(state
        .config
        .anonymous_role
        .map(|role| Principal::new("anonymous", role, PrincipalSource::Anonymous)))
}

/// True for a link followed from another site (a chat, an email, another
/// app): the browser left out the `SameSite=Strict` session cookie.
fn is_cross_site_navigation(headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    value("sec-fetch-mode") == Some("navigate")
        && matches!(value("sec-fetch-site"), Some("cross-site" | "same-site"))
}

/// A page that loads itself again: that navigation starts on the
/// dashboard's own origin, so the browser sends the session cookie, and a
/// signed-in user following a link from elsewhere lands on the page (one
/// who is not gets the sign-in page then). Only for GET and HEAD, which
/// change nothing.
fn reload_same_site() -> Response {
    (
        StatusCode::OK,
        Html(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"0\"><title>jobqueue</title></head>\
             <body><p>Opening the dashboard…</p></body></html>",
        ),
    )
        .into_response()
}

/// For a browser asking for a page without being signed in: a redirect to
/// the host application's login URL, or to the sign-in page, with the
/// page asked for as `next`. `None` for API, metrics and asset requests,
/// state changes, and when there is nowhere to sign in (then: 401).
fn sign_in_redirect(state: &AppState, request: &Request) -> Option<Response> {
    let path = request.uri().path();
    let is_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && wants_html(request.headers())
        && !path.starts_with("/api/")
        && path != "/metrics";
    if !is_page || request.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    if state.config.has_sign_in() && is_cross_site_navigation(request.headers()) {
        return Some(reload_same_site());
    }
    let inside = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let next: String = form_urlencoded::byte_serialize(inside.as_bytes()).collect();
    if let Some(url) = &state.config.host_login_url {
        // The host's login page gets the whole path, mount point included.
        let original = request
            .extensions()
            .get::<OriginalUri>()
            .and_then(|OriginalUri(uri)| uri.path_and_query())
            .map_or(inside, |pq| pq.as_str());
        let next: String = form_urlencoded::byte_serialize(original.as_bytes()).collect();
        let sep = if url.contains('?') { '&' } else { '?' };
        return Some(Redirect::to(&format!("{url}{sep}next={next}")).into_response());
    }
    state
        .config
        .has_sign_in()
        .then(|| Redirect::to(&format!("{}?next={next}", state.link("/login"))).into_response())
}
