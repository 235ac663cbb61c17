//! Who may do what, and the layers every request passes before a handler
//! (see `router.rs` for their order): security headers, the `Host` check
//! against DNS rebinding, authentication, and the CSRF checks of state
//! changes.

pub(crate) mod auth;
pub(crate) mod csrf;
pub(crate) mod csrf_tokens;
pub(crate) mod headers;
pub(crate) mod host_check;
pub(crate) mod principal;
