//! Signing in and out in a browser: `GET /login` (the form), `POST /login`
//! (check it, open a session), `POST /logout` (end it). These routes sit
//! outside the authentication layer (nobody is signed in yet) and do their
//! own checks, in this order:
//!
//! - the browser's own signals (`Sec-Fetch-Site`, `Origin`/`Referer`), as
//!   for every state change (`security/csrf.rs`);
//! - the form's token: on sign-in an HMAC of a random nonce in the
//!   `jobqueue_sign_in` cookie (login CSRF), on sign-out an HMAC of the
//!   session;
//! - on sign-in, the throttle (per client address and per user name, in
//!   Redis), then the credentials, compared in constant time.
//!
//! Refusals are written to the audit log (rate-bounded), sign-ins and
//! sign-outs as actions. After signing in the browser goes to `next`, a
//! path inside the dashboard (`security/next_path.rs`), or the overview.

mod page;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jobqueue_core::admin::RefusalReason;

use self::page::{Notice, render, retry_after};
use crate::audit_log::{self, RequestLine};
use crate::config::Role;
use crate::error::ApiError;
use crate::params::Params;
use crate::security::credentials::match_sign_in;
use crate::security::csrf::{CSRF_FIELD, check_browser_signals};
use crate::security::header_throttle::ATTEMPT_WINDOW;
use crate::security::next_path::safe_next;
use crate::security::principal::{Principal, PrincipalSource, client_address};
use crate::security::sessions::{
    self, SESSION_COOKIE, SIGN_IN_COOKIE, cookie_digests, cookies, set_cookie,
};
use crate::state::AppState;

/// Largest sign-in or sign-out form read.
const MAX_SIGN_IN_FORM: usize = 16 * 1024;

/// The routes outside authentication: signing in and out, and the
/// stylesheet and script (public, see `ui/assets.rs`).
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(sign_in_page).post(sign_in))
        .route("/logout", post(sign_out))
        .route("/assets/{file}", get(crate::ui::assets::asset))
}

/// `GET /login`.
async fn sign_in_page(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if let Some(elsewhere) = no_sign_in_here(&state) {
        return elsewhere;
    }
    let params = Params::parse(request.uri().query());
    let notice = Notice {
        status: StatusCode::OK,
        error: None,
        user: "",
        next: params.get("next").and_then(safe_next),
    };
    render(&state, request.headers(), &notice)
}

/// Where to go when this dashboard has no sign-in: the host's login page,
/// or a 404 saying so.
fn no_sign_in_here(state: &AppState) -> Option<Response> {
    if state.config.has_sign_in() {
        return None;
    }
    Some(match &state.config.host_login_url {
        Some(url) => Redirect::to(url).into_response(),
        None => ApiError::not_found(
            "this dashboard has no sign-in page: it is configured without credentials",
        )
        .into_response(),
    })
}

/// A posted sign-in or sign-out form.
struct Posted {
    headers: HeaderMap,
    line: RequestLine,
    client: Option<IpAddr>,
    fields: Params,
}

impl Posted {
    /// Reads the form (urlencoded fields; 413 when too large, 400 when not
    /// UTF-8).
    async fn read(request: Request) -> Result<Self, Response> {
        let line = RequestLine::of(&request);
        let client = client_address(&request);
        let (parts, body) = request.into_parts();
        let bytes = to_bytes(body, MAX_SIGN_IN_FORM).await.map_err(|_| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "sign-in form too large").into_response()
        })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::bad_request("form body is not UTF-8").into_response())?;
        Ok(Self {
            headers: parts.headers,
            line,
            client,
            fields: Params::parse(Some(text)),
        })
    }

    /// A field's value ("" when absent).
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).unwrap_or("")
    }
}

/// Why a sign-in form was turned away before its password was checked.
enum Turned {
    /// Refused: audit `reason`, answer the form again with `status`,
    /// `message` and, when throttled, `Retry-After` seconds.
    Away(RefusalReason, StatusCode, String, Option<u64>),
    /// Redis failed.
    Failed(ApiError),
}

/// The checks before the password: the browser's signals, the form's
/// login-CSRF token, then the throttle (which counts the attempt).
async fn admit(state: &AppState, posted: &Posted, user_digest: &str) -> Result<(), Turned> {
    if let Err(refusal) = check_browser_signals(state, &posted.headers) {
        let status = StatusCode::FORBIDDEN;
        return Err(Turned::Away(
            RefusalReason::Csrf,
            status,
            refusal.message,
            None,
        ));
    }
    let token = posted.field(CSRF_FIELD);
    if !cookies(&posted.headers, SIGN_IN_COOKIE)
        .any(|nonce| state.csrf.verify_sign_in(nonce, token))
    {
        let message = "The sign-in form expired, or your browser did not send its cookie: try \
                       again. (Cookies must be enabled; over plain HTTP on an address other \
                       than localhost, the dashboard must be configured without secure cookies.)";
        let status = StatusCode::FORBIDDEN;
        return Err(Turned::Away(
            RefusalReason::Csrf,
            status,
            message.to_owned(),
            None,
        ));
    }
    let settings = &state.config.sign_in;
    // A token sign-in (no user name) is not counted per user: every token
    // would share one count, and anyone could lock them all out. Tokens
    // are long random secrets; the per-address limit still holds.
    let per_user = if posted.field("user").is_empty() {
        0
    } else {
        settings.attempts_per_user
    };
    let client = posted.client.map(|ip| ip.to_string());
    let limits = (settings.attempts_per_client, per_user);
    match state
        .admin
        .login_attempt(client.as_deref(), user_digest, limits, ATTEMPT_WINDOW)
        .await
    {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => {
            let seconds = wait.as_secs().max(1);
            let message = format!("Too many sign-in attempts: try again in {seconds} s.");
            let status = StatusCode::TOO_MANY_REQUESTS;
            Err(Turned::Away(
                RefusalReason::Throttled,
                status,
                message,
                Some(seconds),
            ))
        }
        Err(error) => Err(Turned::Failed(error.into())),
    }
}

/// `POST /login`: checks, then a session and a redirect to `next`.
async fn sign_in(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if let Some(elsewhere) = no_sign_in_here(&state) {
        return elsewhere;
    }
    let posted = match Posted::read(request).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let next = safe_next(posted.field("next"));
    let user = posted.field("user");
    let again = |status: StatusCode, error: &str| {
        let notice = Notice {
            status,
            error: Some(error),
            user,
            next,
        };
        render(&state, &posted.headers, &notice)
    };
    let user_digest = sessions::digest(user);
    match admit(&state, &posted, &user_digest).await {
        Ok(()) => {}
        Err(Turned::Away(reason, status, message, wait)) => {
            refuse(&state, reason, &posted.line).await;
            let mut response = again(status, &message);
            if let Some(seconds) = wait {
                let (name, value) = retry_after(seconds);
                response.headers_mut().insert(name, value);
            }
            return response;
        }
        Err(Turned::Failed(error)) => return error.into_response(),
    }
    let Some((kind, name, role)) =
        match_sign_in(&state.config.credentials, user, posted.field("password"))
    else {
        refuse(&state, RefusalReason::SignIn, &posted.line).await;
        return again(StatusCode::UNAUTHORIZED, "Wrong user name or password.");
    };
    match open_session(&state, &posted, &user_digest, (kind, &name, role)).await {
        Ok(cookie) => {
            let to = state.link(next.unwrap_or("/"));
            let mut response = Redirect::to(&to).into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state.config, SIGN_IN_COOKIE, "", Duration::ZERO),
            );
            response
        }
        Err(error) => error.into_response(),
    }
}

/// After the credentials matched: ends the sessions the browser held,
/// clears the user name's attempts, opens the new session and records the
/// sign-in. Returns the session cookie.
async fn open_session(
    state: &AppState,
    posted: &Posted,
    user_digest: &str,
    (kind, name, role): (&str, &str, Role),
) -> Result<header::HeaderValue, ApiError> {
    for old in cookie_digests(&posted.headers) {
        state.admin.end_dashboard_session(&old).await?;
    }
    state.admin.login_succeeded(user_digest).await?;
    let cookie = sessions::open(state, kind, name, role).await?;
    let mut who = Principal::new(name, state.config.effective(role), PrincipalSource::Session);
    who.client = posted.client;
    audit_log::action(state, &who, "sign_in", "dashboard", 0).await;
    Ok(cookie)
}

/// `POST /logout`: ends the session whose sign-out token the form
/// carries, clears the cookie and goes to the sign-in page.
async fn sign_out(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let posted = match Posted::read(request).await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    if let Err(refusal) = check_browser_signals(&state, &posted.headers) {
        refuse(&state, RefusalReason::Csrf, &posted.line).await;
        return refusal.into_response();
    }
    let token = posted.field(CSRF_FIELD);
    let digests = cookie_digests(&posted.headers);
    if !digests.is_empty() {
        let Some(session) = digests
            .iter()
            .find(|digest| state.csrf.verify_sign_out(digest, token))
        else {
            refuse(&state, RefusalReason::Csrf, &posted.line).await;
            return ApiError::forbidden(
                "missing or wrong sign-out token: reload the page and try again",
            )
            .into_response();
        };
        if let Err(error) = end_session(&state, session, posted.client).await {
            return error.into_response();
        }
    }
    let mut response = Redirect::to(&state.link("/login")).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, SESSION_COOKIE, "", Duration::ZERO),
    );
    response
}

/// Ends the session whose id hashes to `digest`, recording who signed out.
async fn end_session(
    state: &AppState,
    digest: &str,
    client: Option<IpAddr>,
) -> Result<(), ApiError> {
    let idle = state.config.sign_in.idle_timeout;
    let Some(session) = state.admin.dashboard_session(digest, idle).await? else {
        return Ok(());
    };
    if state.admin.end_dashboard_session(digest).await? {
        let mut who = Principal::new(&session.name, Role::ReadOnly, PrincipalSource::Session);
        who.role = match session.role.as_str() {
            "operator" => Role::Operator,
            _ => Role::ReadOnly,
        };
        who.client = client;
        audit_log::action(state, &who, "sign_out", "dashboard", 0).await;
    }
    Ok(())
}

/// Writes a refused sign-in or sign-out to the audit log.
async fn refuse(state: &AppState, reason: RefusalReason, line: &RequestLine) {
    audit_log::refusal(state, reason, None, line).await;
}
