//! How the dashboard authenticates and what it lets people do.

use std::time::Duration;

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

/// Configuration of the dashboard router. Build one with
/// [`DashboardConfig::with_credentials`] (the dashboard checks credentials
/// itself) or [`DashboardConfig::behind_host_auth`] (the host application
/// authenticates before the request reaches the router).
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
        }
    }

    /// Every request gets `role`, or the role of the [`crate::HostUser`]
    /// the host application attached: for embedding under a host
    /// application that authenticates users itself (see the crate docs).
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

    /// The role a caller gets, capped by the read-only switch.
    pub(crate) fn effective(&self, role: Role) -> Role {
        if self.read_only { Role::ReadOnly } else { role }
    }
}
