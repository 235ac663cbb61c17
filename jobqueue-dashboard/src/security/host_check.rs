//! The `Host` check that defeats DNS rebinding, and the dashboard's own
//! origin as state-changing requests must name it.
//!
//! Without credentials (`jobqueue serve` on a loopback address), anyone
//! who reaches the port is an operator — and every web page a local user
//! opens can make the browser reach it: the page's host name is pointed at
//! 127.0.0.1 after it loaded (DNS rebinding), and the browser then treats
//! the dashboard as the page's own origin, reading its pages and posting
//! its forms. The browser still sends the page's host name in `Host`, so a
//! router built with [`crate::DashboardConfig::open_on_loopback`] (or given
//! [`crate::DashboardConfig::allowed_host`]) answers only loopback names
//! and the names added, and refuses every other with 403.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jobqueue_core::admin::RefusalReason;

use crate::audit_log;
use crate::config::DashboardConfig;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::error_page;

/// Middleware (outside authentication): refuses a `Host` the router does
/// not serve, when the configuration checks it.
pub(crate) async fn check_host(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(extra) = &state.config.allowed_hosts else {
        return next.run(request).await;
    };
    let authority = request_authority(&request);
    let name = authority.as_deref().map(host_name);
    if name.is_some_and(|name| is_loopback_name(name) || extra.iter().any(|e| host_name(e) == name))
    {
        return next.run(request).await;
    }
    let shown = authority.unwrap_or_else(|| "(none)".to_owned());
    let message = format!(
        "this dashboard has no credentials and answers only loopback host names \
         (localhost, 127.0.0.1, [::1]), not {shown:?}: a page elsewhere may have pointed \
         that name here (DNS rebinding). To reach it through a proxy under that name, \
         start it with --allowed-host {} (or JOBQUEUE_DASHBOARD_ALLOWED_HOSTS), or give it credentials.",
        name_or_placeholder(&shown),
    );
    audit_log::refusal(
        &state,
        RefusalReason::Host,
        None,
        &audit_log::RequestLine::of(&request),
    )
    .await;
    if error_page::wants_html(request.headers()) {
        return error_page::render(&state, StatusCode::FORBIDDEN, &message);
    }
    ApiError::new(StatusCode::FORBIDDEN, message).into_response()
}

/// The host name of a refused authority, for the hint (or a placeholder
/// when it is not a plain name).
fn name_or_placeholder(authority: &str) -> String {
    let name = host_name(authority);
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'))
    {
        name.to_owned()
    } else {
        "NAME".to_owned()
    }
}

/// The request's `Host` (or, for HTTP/2, its URI authority), lowercased.
fn request_authority(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))
        .map(|a| a.trim().to_ascii_lowercase())
}

/// `host` of `host:port`, `[::1]` of `[::1]:port`, without a trailing dot.
pub(crate) fn host_name(authority: &str) -> &str {
    let name = if authority.starts_with('[') {
        authority
            .find(']')
            .map_or(authority, |end| &authority[..=end])
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    name.strip_suffix('.').unwrap_or(name)
}

/// True for `localhost` and loopback addresses (127.0.0.0/8, `[::1]`).
fn is_loopback_name(name: &str) -> bool {
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The authorities (`host[:port]`, lowercased) that count as this
/// dashboard's own origin for a request with `headers`: its `Host`, a
/// proxy's `X-Forwarded-Host`, and the configured allowed hosts. A
/// default port is also listed without it.
pub(crate) fn own_authorities(config: &DashboardConfig, headers: &HeaderMap) -> Vec<String> {
    let mut own: Vec<String> = Vec::new();
    let mut add = |authority: &str| {
        let authority = authority.trim().to_ascii_lowercase();
        for default_port in [":80", ":443"] {
            if let Some(bare) = authority.strip_suffix(default_port) {
                own.push(bare.to_owned());
            }
        }
        own.push(authority);
    };
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        add(host);
    }
    if let Some(forwarded) = headers
        .get("x-forwarded-host")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
    {
        add(forwarded);
    }
    for allowed in config.allowed_hosts.iter().flatten() {
        add(allowed);
    }
    own
}

/// The authority of an `Origin` or `Referer` URL (`scheme://host[:port]…`),
/// lowercased, without the scheme's default port; `None` for `null` or
/// anything that is not such a URL.
pub(crate) fn authority_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?.to_ascii_lowercase();
    if authority.is_empty() {
        return None;
    }
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    Some(match authority.strip_suffix(default_port) {
        Some(bare) if !default_port.is_empty() => bare.to_owned(),
        _ => authority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_loopback() {
        assert_eq!(host_name("localhost:9090"), "localhost");
        assert_eq!(host_name("[::1]:9090"), "[::1]");
        assert_eq!(host_name("example.com."), "example.com");
        for name in ["localhost", "LOCALHOST", "127.0.0.1", "127.3.4.5", "[::1]"] {
            assert!(is_loopback_name(name), "{name}");
        }
        for name in [
            "attacker.example",
            "localhost.attacker.example",
            "10.0.0.1",
            "[::2]",
            "",
        ] {
            assert!(!is_loopback_name(name), "{name}");
        }
    }

    #[test]
    fn origins_reduce_to_authorities() {
        assert_eq!(
            authority_of_url("https://Jobs.Example.com"),
            Some("jobs.example.com".to_owned())
        );
        assert_eq!(
            authority_of_url("http://127.0.0.1:80/x?y"),
            Some("127.0.0.1".to_owned())
        );
        assert_eq!(
            authority_of_url("http://localhost:8000/page"),
            Some("localhost:8000".to_owned())
        );
        assert_eq!(authority_of_url("null"), None);
        assert_eq!(authority_of_url("file:///etc"), None);
    }
}
