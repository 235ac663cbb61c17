//! Errors on the HTML pages shown as a page, not JSON, when a browser asks
//! (an operator following a stale link should read what happened). API
//! clients, which do not ask for `text/html`, keep the JSON error.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, html};

use super::visible::Visible;
use crate::state::AppState;

/// Largest error body read back (ours are a few hundred bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Middleware of the page routes: an error answered to a browser becomes
/// a page showing its message.
pub(crate) async fn html_errors(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let wants_html = wants_html(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    if !wants_html || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, MAX_ERROR_BODY).await.unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let mut page = render(&state, status, &message);
    // Keep what the error carried besides its body: a basic-auth challenge
    // (browsers ask for credentials on it), the refusal the audit layer
    // records.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page.extensions_mut().extend(parts.extensions);
    page
}

/// True when the request asks for HTML (a browser navigating).
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// An error page with `status` and `message`.
pub(crate) fn render(state: &AppState, status: StatusCode, message: &str) -> Response {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (status.as_u16()) " · jobqueue" }
                link rel="stylesheet" href=(state.link("/assets/app.css"));
            }
            body {
                main {
                    h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                    p.flash #error-message { (Visible(message)) }
                    p { a href=(state.link("/")) { "Back to the overview" } }
                }
            }
        }
    };
    (status, Html(page.into_string())).into_response()
}
