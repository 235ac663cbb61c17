//! One error shape for everything the router answers: axum and its
//! extractors refuse some requests themselves (405 for a wrong method,
//! 413 for a body over the limit, 400 for a path that is not UTF-8) with a
//! plain-text or empty body. This layer turns those into the JSON error
//! every handler answers (`{"error": …, "status": …}`), so API clients
//! parse one shape; HTML error pages (for browsers) pass through.
//!
//! It also refuses URIs longer than [`MAX_URI_LEN`] with 414, before any
//! routing: no route needs more, and it keeps the answer JSON (the HTTP
//! server refuses far longer request lines itself, before the router).

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Longest accepted request URI (path and query), in bytes.
pub(crate) const MAX_URI_LEN: usize = 8 * 1024;

/// Most of a framework error body kept as the message.
const MAX_MESSAGE_BYTES: usize = 1024;

/// Middleware: long URIs get 414; non-JSON error bodies become JSON.
pub(crate) async fn uniform_errors(request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_LEN {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("the request URI is {uri_len} bytes; at most {MAX_URI_LEN} are accepted"),
        )
        .into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ours =
        content_type.starts_with("application/json") || content_type.starts_with("text/html");
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_MESSAGE_BYTES * 4)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        default_message(status)
    } else {
        text.chars().take(MAX_MESSAGE_BYTES).collect()
    };
    let mut uniform = ApiError::new(status, message).into_response();
    // Keep what the rejection said besides its body (`Allow` on a 405).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            uniform.headers_mut().insert(name.clone(), value.clone());
        }
    }
    uniform.extensions_mut().extend(parts.extensions);
    uniform
}

/// The message of an error the framework answered without one.
fn default_message(status: StatusCode) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "method not allowed here (state changes are POST, PUT or DELETE; reads are GET)"
                .to_owned()
        }
        other => other.canonical_reason().unwrap_or("error").to_lowercase(),
    }
}
