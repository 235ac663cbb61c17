//! How the dashboard authenticates and what it lets people do.

#[cfg(feature = "alerts")]
use std::sync::Arc;
use std::time::Duration;

use jobqueue_core::admin::scaling::ScalingConfig;
use jobqueue_core::wire::payload_codec::PayloadCodec;
use jobqueue_core::wire::payload_keys::Keyring;

#[cfg(feature = "alerts")]
use crate::alerts::AlertsConfig;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// May look at everything, change nothing.
    ReadOnly,
    /// May also retry, delete, purge, pause and resume.
    Operator,
}

impl Role {
    /// `operator` or `read_only`, as the audit log records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read_only",
            Self::Operator => "operator",
        }
    }
}

/// One accepted credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: String,
        /// Name written to the audit log for this token.
        label: String,
        /// What holders of the token may do.
        role: Role,
    },
    /// HTTP basic auth (browsers prompt for it).
    Basic {
        /// User name (also the audit-log name).
        user: String,
        /// Password.
        password: String,
        /// What this user may do.
        role: Role,
    },
}

impl Credential {
    /// A user name and password (HTTP basic auth, and the sign-in page).
    ///
    /// ```
    /// use jobqueue_dashboard::{Credential, Role};
    /// let admin = Credential::basic("admin", "a-long-secret-from-the-env", Role::Operator);
    /// ```
    pub fn basic(user: impl Into<String>, password: impl Into<String>, role: Role) -> Self {
        Credential::Basic {
            user: user.into(),
            password: password.into(),
            role,
        }
    }

    /// A bearer token, named `label` in the audit log.
    ///
    /// ```
    /// use jobqueue_dashboard::{Credential, Role};
    /// let ci = Credential::bearer("ci", "a-long-random-token-from-the-env", Role::ReadOnly);
    /// ```
    pub fn bearer(label: impl Into<String>, token: impl Into<String>, role: Role) -> Self {
        Credential::Bearer {
            token: token.into(),
            label: label.into(),
            role,
        }
    }
}

/// How browsers sign in with the configured credentials: the session
/// cookie's lifetimes and attributes, and the sign-in throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignInSettings {
    /// A session unused this long ends.
    pub(crate) idle_timeout: Duration,
    /// A session ends this long after sign-in, however much it is used.
    pub(crate) lifetime: Duration,
    /// Whether cookies carry `Secure`.
    pub(crate) secure_cookies: bool,
    /// Most sign-in attempts per minute at one user name.
    pub(crate) attempts_per_user: u32,
    /// Most sign-in attempts per minute from one client address.
    pub(crate) attempts_per_client: u32,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            secure_cookies: true,
            attempts_per_user: 5,
            attempts_per_client: 20,
        }
    }
}

/// Configuration of the dashboard router. Build one with
/// [`DashboardConfig::with_credentials`] (the dashboard checks credentials
/// itself; browsers sign in on its `/login` page),
/// [`DashboardConfig::host_auth`] (the host application authenticates and
/// attaches a [`crate::HostUser`] to each request) or
/// [`DashboardConfig::behind_host_auth`] (the same, with a role for
/// requests that come without one).
#[derive(Debug, Clone)]
#[must_use]
pub struct DashboardConfig {
    pub(crate) credentials: Vec<Credential>,
    /// Role of requests without credentials; `None` means they are refused.
    pub(crate) anonymous_role: Option<Role>,
    pub(crate) read_only: bool,
    pub(crate) base_path: String,
    pub(crate) snapshot_max_age: Duration,
    pub(crate) csrf_secret: Option<String>,
    /// Host names served besides the loopback names; `None` means the
    /// `Host` header is not checked.
    pub(crate) allowed_hosts: Option<Vec<String>>,
    pub(crate) sign_in: SignInSettings,
    /// Where a browser without a [`crate::HostUser`] is sent (host auth).
    pub(crate) host_login_url: Option<String>,
    /// Targets of the autoscaling signal (`/api/v1/scaling`, `/metrics`).
    pub(crate) scaling: ScalingConfig,
    /// Keys that decrypt encrypted payloads on the job page and in the
    /// API's job detail; `None`: they are shown redacted.
    pub(crate) payload_keys: Option<PayloadCodec>,
    /// The least role shown decrypted payloads (with `payload_keys`).
    pub(crate) reveal_payloads_to: Role,
    /// The alert rules the Alerts page lists (the evaluator is started
    /// beside the router, see [`crate::alerts`]).
    #[cfg(feature = "alerts")]
    pub(crate) alerts: Option<Arc<AlertsConfig>>,
}

impl DashboardConfig {
    /// Only requests carrying one of `credentials` get in.
    pub fn with_credentials(credentials: Vec<Credential>) -> Self {
        Self {
            credentials,
            anonymous_role: None,
            read_only: false,
            base_path: String::new(),
            snapshot_max_age: Duration::from_secs(2),
            csrf_secret: None,
            allowed_hosts: None,
            sign_in: SignInSettings::default(),
            host_login_url: None,
            scaling: ScalingConfig::default(),
            payload_keys: None,
            reveal_payloads_to: Role::Operator,
            #[cfg(feature = "alerts")]
            alerts: None,
        }
    }

    /// Decrypts encrypted payloads with `keyring` for viewers whose role is
    /// at least [`DashboardConfig::reveal_payloads_to`] (operators by
    /// default), on the job page and in the API's job detail. Without it,
    /// and for everyone else, they show as `encrypted (key k1)`; lists
    /// always do. Compressed payloads are shown decompressed to everyone.
    pub fn payload_keys(mut self, keyring: Keyring) -> Self {
        self.payload_keys = Some(PayloadCodec::plain().encrypt(keyring));
        self
    }

    /// The least role shown decrypted payloads (default
    /// [`Role::Operator`]); see [`DashboardConfig::payload_keys`].
    pub fn reveal_payloads_to(mut self, role: Role) -> Self {
        self.reveal_payloads_to = role;
        self
    }

    /// The codec that decrypts payloads for `role`, when the dashboard holds
    /// keys and the role may see payloads.
    pub(crate) fn payload_keys_for(&self, role: Role) -> Option<&PayloadCodec> {
        self.payload_keys
            .as_ref()
            .filter(|_| role >= self.reveal_payloads_to)
    }

    /// The host application authenticates: a request must carry the
    /// [`crate::HostUser`] its middleware attached (who, and which role),
    /// or it is refused with 401 — a browser asking for a page is sent to
    /// [`DashboardConfig::host_login_url`] instead when one is set. The
    /// `Host` header is not checked (add [`DashboardConfig::allowed_host`]
    /// to check it).
    pub fn host_auth() -> Self {
        Self::with_credentials(Vec::new())
    }

    /// Where a browser that asks for a page without being signed in is
    /// sent, with the page's path (and query) as a `next` query parameter:
    /// the host application's login page, under [`DashboardConfig::host_auth`].
    /// A path on the same site (`/login`) or an absolute URL; it is the
    /// host application's job to check `next` before redirecting to it.
    pub fn host_login_url(mut self, url: &str) -> Self {
        self.host_login_url = Some(url.to_owned());
        self
    }

    /// How long an unused sign-in session lives (default 30 minutes; at
    /// least 1 s). Every request renews it, up to
    /// [`DashboardConfig::session_lifetime`].
    pub fn session_idle_timeout(mut self, idle: Duration) -> Self {
        self.sign_in.idle_timeout = idle.max(Duration::from_secs(1));
        self
    }

    /// How long a sign-in session lives however much it is used (default
    /// 12 hours; at least 1 s): then the browser must sign in again.
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.sign_in.lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// Whether the session cookie carries `Secure` (sent over HTTPS only).
    /// Default `true`: right behind TLS (a proxy that terminates it
    /// included), and browsers treat `http://localhost` and `127.0.0.1` as
    /// secure too. Set `false` only to sign in over plain HTTP on another
    /// address (a private network), where browsers drop `Secure` cookies.
    pub fn secure_cookies(mut self, secure: bool) -> Self {
        self.sign_in.secure_cookies = secure;
        self
    }

    /// Most sign-in attempts per minute at one user name (default 5) and
    /// from one client address (default 20), counted in Redis across
    /// every replica; more get 429 until the minute is over. A successful
    /// sign-in clears its user name's count. Each at least 1.
    pub fn sign_in_attempts(mut self, per_user: u32, per_client: u32) -> Self {
        self.sign_in.attempts_per_user = per_user.max(1);
        self.sign_in.attempts_per_client = per_client.max(1);
        self
    }

    /// Every request gets `role`, or the role of the [`crate::HostUser`]
    /// the host application attached: for embedding under a host
    /// application that authenticates users itself (see the crate docs).
    /// Prefer [`DashboardConfig::host_auth`], which refuses requests
    /// without a `HostUser`: a route the host's middleware forgot then
    /// stays closed.
    /// The `Host` header is not checked (the host application serves its
    /// own names); add [`DashboardConfig::allowed_host`] to check it.
    pub fn behind_host_auth(role: Role) -> Self {
        Self {
            anonymous_role: Some(role),
            ..Self::with_credentials(Vec::new())
        }
    }

    /// No credentials: every request gets operator rights — for a server
    /// that listens on a loopback address only (`jobqueue serve` without
    /// credentials). Any web page can make a browser send requests to
    /// 127.0.0.1 under a host name of the page's choosing that resolves
    /// there (DNS rebinding), so this router answers only requests whose
    /// `Host` is a loopback name (`localhost`, an address in 127.0.0.0/8,
    /// `[::1]`) or one added with [`DashboardConfig::allowed_host`], and
    /// refuses any other with 403.
    pub fn open_on_loopback() -> Self {
        Self {
            allowed_hosts: Some(Vec::new()),
            ..Self::behind_host_auth(Role::Operator)
        }
    }

    /// Also answers requests whose `Host` names `host` (a host name or IP
    /// address; a port, if given, is ignored): the name a reverse proxy or
    /// a port forward uses to reach the dashboard. On a configuration that
    /// did not check the `Host` header, this turns the check on: only the
    /// loopback names and the names added are then served. An `Origin` of
    /// exactly this name (`https://<host>`) also counts as the dashboard's
    /// own on state changes.
    pub fn allowed_host(mut self, host: &str) -> Self {
        self.allowed_hosts
            .get_or_insert_with(Vec::new)
            .push(host.trim().to_ascii_lowercase());
        self
    }

    /// Turns every credential into read-only: nothing can change state.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The path the router is mounted under (e.g. `/admin/jobs` when nested
    /// there), so the pages link to themselves correctly. Default: none.
    pub fn base_path(mut self, base_path: &str) -> Self {
        self.base_path = base_path.trim_end_matches('/').to_owned();
        self
    }

    /// How old the cached overview snapshot (served to the live overview,
    /// `/api/v1/stats` and `/metrics`) may get before a request refreshes
    /// it. Default 2 s; at least 1 s, so scrapes cannot add Redis load.
    pub fn snapshot_max_age(mut self, max_age: Duration) -> Self {
        self.snapshot_max_age = max_age.max(Duration::from_secs(1));
        self
    }

    /// The secret the CSRF tokens are derived from (each user's token is
    /// an HMAC of their name and role under it), instead of a random one
    /// per router: set the same value (32+ characters) on every replica
    /// behind a load balancer, so a form served by one is accepted by
    /// another. It never appears on a page.
    pub fn csrf_secret(mut self, secret: &str) -> Self {
        self.csrf_secret = Some(secret.to_owned());
        self
    }

    /// The targets of the autoscaling signal (`GET /api/v1/scaling`,
    /// `jobqueue_desired_workers` on `/metrics`, the queues page) per
    /// queue, and the window throughput is measured over. Default:
    /// [`ScalingConfig::default`] for every queue. See `docs/deployment.md`.
    pub fn scaling(mut self, scaling: ScalingConfig) -> Self {
        self.scaling = scaling;
        self
    }

    /// True when some credential is configured.
    pub fn has_credentials(&self) -> bool {
        !self.credentials.is_empty()
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// The host names served besides the loopback names, lowercased;
    /// `None` when the `Host` header is not checked.
    pub fn allowed_hosts(&self) -> Option<&[String]> {
        self.allowed_hosts.as_deref()
    }

    /// True when browsers can sign in on the `/login` page: some
    /// credential is configured.
    pub fn has_sign_in(&self) -> bool {
        self.has_credentials()
    }

    /// The alert rules and sinks the Alerts page (and `GET /api/v1/alerts`)
    /// lists with their state; give the same to the
    /// [`crate::alerts::AlertEvaluator`] that evaluates them (feature
    /// `alerts`).
    #[cfg(feature = "alerts")]
    pub fn alerts(mut self, alerts: Arc<AlertsConfig>) -> Self {
        self.alerts = Some(alerts);
        self
    }

    /// The role a caller gets, capped by the read-only switch.
    pub(crate) fn effective(&self, role: Role) -> Role {
        if self.read_only { Role::ReadOnly } else { role }
    }
}
