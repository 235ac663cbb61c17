//! The sign-in page: a user name and password form (or a token as the
//! password), carrying its login-CSRF token and the page to go back to.
//! Every value on it is escaped by `maud`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, html};

use crate::security::csrf::CSRF_FIELD;
use crate::security::sessions::{SIGN_IN_COOKIE, random_token, set_cookie, sign_in_nonce};
use crate::state::AppState;
use crate::ui::visible::Visible;

/// How long the sign-in form's nonce cookie lives.
const SIGN_IN_NONCE_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// What the page says besides the form.
pub(crate) struct Notice<'a> {
    /// The status to answer with.
    pub(crate) status: StatusCode,
    /// An error to show above the form, if any.
    pub(crate) error: Option<&'a str>,
    /// The user name to fill in again.
    pub(crate) user: &'a str,
    /// The (already checked) page to go to after signing in.
    pub(crate) next: Option<&'a str>,
}

/// The sign-in page, with a nonce cookie for its token when the browser
/// has none yet.
pub(crate) fn render(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    notice: &Notice<'_>,
) -> Response {
    let (nonce, new_cookie) = match sign_in_nonce(headers) {
        Some(nonce) => (nonce.to_owned(), None),
        None => match random_token(16) {
            Ok(nonce) => {
                let cookie = set_cookie(&state.config, SIGN_IN_COOKIE, &nonce, SIGN_IN_NONCE_AGE);
                (nonce, Some(cookie))
            }
            Err(error) => return error.into_response(),
        },
    };
    let token = state.csrf.sign_in_token(&nonce);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · jobqueue" }
                link rel="stylesheet" href=(state.link("/assets/app.css"));
            }
            body {
                main.sign-in {
                    h1 { "jobqueue" }
                    @if let Some(error) = notice.error {
                        p.flash #sign-in-error role="alert" { (Visible(error)) }
                    }
                    form #sign-in-form method="post" action=(state.link("/login")) {
                        input type="hidden" name=(CSRF_FIELD) value=(token);
                        @if let Some(next) = notice.next {
                            input type="hidden" name="next" value=(next);
                        }
                        label for="user" { "User name" }
                        input #user type="text" name="user" value=(notice.user)
                            autocomplete="username" autocapitalize="none" spellcheck="false";
                        label for="password" { "Password or API token" }
                        input #password type="password" name="password"
                            autocomplete="current-password" required;
                        button #sign-in type="submit" { "Sign in" }
                    }
                    p.hint { "To sign in with an API token, leave the user name empty (or give the token's label)." }
                }
            }
        }
    };
    let mut response = (notice.status, Html(page.into_string())).into_response();
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `value` as a header value (a number of seconds).
pub(crate) fn retry_after(seconds: u64) -> (header::HeaderName, HeaderValue) {
    (header::RETRY_AFTER, HeaderValue::from(seconds))
}
