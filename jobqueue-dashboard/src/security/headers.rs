//! Security headers on every response: a strict Content-Security-Policy
//! (only our own scripts, styles and images; no inline script), no
//! framing, no sniffing, no referrer to other sites, no caching of
//! operator data.
//!
//! The referrer policy is `same-origin`, not `no-referrer`: under
//! `no-referrer` a browser sends `Origin: null` even on the dashboard's own
//! form posts, and the CSRF check needs their real `Origin` (see
//! [`super::csrf`]). Other sites still get no `Referer`.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy for pages and JSON.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'";

/// The policy for our SVG charts: they carry their own `<style>` (so they
/// follow dark mode as images) and can never run script.
pub(crate) const SVG_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'";

/// Middleware adding the headers (a handler may set its own CSP first).
pub(crate) async fn add_security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::CACHE_CONTROL, "no-store");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    response
}
