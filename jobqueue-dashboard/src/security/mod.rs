//! Who may do what, and the layers every request passes before a handler
//! (see `router.rs` for their order): security headers, the `Host` check
//! against DNS rebinding, authentication (credentials, sign-in sessions, a
//! host application's user), and the CSRF checks of state changes; and what
//! the sign-in page (`ui/sign_in/`) uses: credential matching, sessions and
//! the `next` check.

pub(crate) mod auth;
pub(crate) mod credentials;
pub(crate) mod csrf;
pub(crate) mod csrf_tokens;
pub(crate) mod header_throttle;
pub(crate) mod headers;
pub(crate) mod host_check;
pub(crate) mod next_path;
pub(crate) mod principal;
pub(crate) mod sessions;
