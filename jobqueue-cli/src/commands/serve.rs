//! `jobqueue serve`: the dashboard over HTTP.
//!
//! Secure by default: with no credentials configured it serves only on a
//! loopback address (and says the dashboard is open to local users), and
//! answers only loopback host names there (DNS rebinding, see
//! `jobqueue_dashboard`'s `security/host_check.rs`); on any other address it refuses to start unless
//! `--insecure-no-auth` is given.
//!
//! With credentials, browsers sign in on the dashboard's `/login` page
//! (a session cookie; `--session-idle-minutes`, `--session-lifetime-hours`,
//! `--insecure-cookies`); API clients send the credential itself.
//!
//! Every credential has a label, the name the audit log records: a token
//! is given as `label:secret` (a bare secret gets `token-<4 hex digits of
//! its SHA-256>`, never the secret), a basic-auth user is its user name.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Args;
use jobqueue_core::Client;
use sha2::{Digest, Sha256};

use jobqueue_dashboard::{Credential, DashboardConfig, Role};

use super::exit::{CliError, CliResult, EXIT_ERROR, EXIT_REFUSED, EXIT_USAGE};

/// Shortest accepted token or basic-auth password.
pub const MIN_SECRET_LEN: usize = 16;

/// Shortest accepted shared CSRF secret.
pub const MIN_CSRF_SECRET_LEN: usize = 32;

/// Options of `jobqueue serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_BIND",
        default_value = "127.0.0.1:9090"
    )]
    pub bind: SocketAddr,
    /// Bearer token with operator rights, as `label:secret` (the label is
    /// what the audit log records) or a bare secret of 16+ characters;
    /// repeatable, comma-separated in the variable (prefer the variable:
    /// flags show in `ps`).
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_TOKEN",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub token: Vec<String>,
    /// Bearer token with read-only rights (`label:secret` or a bare secret).
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_READ_ONLY_TOKEN",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub read_only_token: Vec<String>,
    /// Basic-auth `user:password` with operator rights (browsers prompt for
    /// it); the password needs 16+ characters. Repeatable.
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_BASIC_AUTH",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub basic_auth: Vec<String>,
    /// Basic-auth `user:password` with read-only rights.
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_READ_ONLY_BASIC_AUTH",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub read_only_basic_auth: Vec<String>,
    /// Nobody may change anything, whatever their credentials.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_READ_ONLY")]
    pub read_only: bool,
    /// Serve without authentication on a non-loopback address (dangerous).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Host name the dashboard also answers to (a reverse proxy's or port
    /// forward's), besides localhost, 127.0.0.1 and ::1; repeatable,
    /// comma-separated in the variable. Without credentials other names
    /// are refused (DNS rebinding); with credentials, giving one turns
    /// that check on.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_host: Vec<String>,
    /// Secret the CSRF tokens are derived from, shared by every replica
    /// behind a load balancer (32+ characters); default: random per process.
    #[arg(
        long,
        alias = "csrf-token",
        env = "JOBQUEUE_DASHBOARD_CSRF_SECRET",
        hide_env_values = true
    )]
    pub csrf_secret: Option<String>,
    /// Path prefix the dashboard is served under behind a reverse proxy.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_BASE_PATH", default_value = "")]
    pub base_path: String,
    /// Minutes a browser's sign-in session lives unused (each request
    /// renews it).
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_SESSION_IDLE_MINUTES",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=10_080)
    )]
    pub session_idle_minutes: u64,
    /// Hours a browser's sign-in session lives however much it is used.
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_SESSION_LIFETIME_HOURS",
        default_value_t = 12,
        value_parser = clap::value_parser!(u64).range(1..=720)
    )]
    pub session_lifetime_hours: u64,
    /// Sign-in cookies without `Secure`: only to sign in over plain HTTP
    /// on an address other than localhost (a private network). Behind a
    /// TLS proxy, and on localhost, leave it off.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
    /// Targets of the autoscaling signal (`/api/v1/scaling`, `/metrics`).
    #[command(flatten)]
    pub scaling: super::scaling::ScalingTargetsArg,
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::new(EXIT_USAGE, message)
}

/// A token's label and secret: `label:secret` when the part before the
/// first `:` looks like a label, else the whole value is the secret and
/// the label is derived from its hash (never the secret itself).
fn labelled_token(value: &str, role: Role) -> (String, String) {
    if let Some((label, secret)) = value.split_once(':')
        && !label.is_empty()
        && label.len() <= 64
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
    {
        return (label.to_owned(), secret.to_owned());
    }
    let digest = Sha256::digest(value.as_bytes());
    let kind = match role {
        Role::Operator => "token",
        Role::ReadOnly => "read-only-token",
    };
    (
        format!("{kind}-{:02x}{:02x}", digest[0], digest[1]),
        value.to_owned(),
    )
}

/// The credentials `args` configure, checked: secrets long enough, labels
/// and secrets unique (the audit log must tell credentials apart).
fn credentials(args: &ServeArgs) -> Result<Vec<Credential>, CliError> {
    let mut credentials = Vec::new();
    for (values, role, what) in [
        (&args.token, Role::Operator, "token"),
        (&args.read_only_token, Role::ReadOnly, "read-only token"),
    ] {
        for value in values {
            let (label, token) = labelled_token(value.trim(), role);
            if token.len() < MIN_SECRET_LEN {
                return Err(usage(format!(
                    "the {what} {label:?} must be at least {MIN_SECRET_LEN} characters"
                )));
            }
            credentials.push(Credential::Bearer { token, label, role });
        }
    }
    for (pairs, role) in [
        (&args.basic_auth, Role::Operator),
        (&args.read_only_basic_auth, Role::ReadOnly),
    ] {
        for pair in pairs {
            let Some((user, password)) = pair.split_once(':') else {
                return Err(usage("basic auth is given as user:password"));
            };
            if user.is_empty() || password.is_empty() {
                return Err(usage("basic auth needs a user and a password"));
            }
            if password.len() < MIN_SECRET_LEN {
                return Err(usage(format!(
                    "the password of {user:?} must be at least {MIN_SECRET_LEN} characters \
                     (like a token: browsers send it with every request)"
                )));
            }
            credentials.push(Credential::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
                role,
            });
        }
    }
    let (mut labels, mut secrets) = (HashSet::new(), HashSet::new());
    for credential in &credentials {
        let (label, secret) = match credential {
            Credential::Bearer { token, label, .. } => (label, token),
            Credential::Basic { user, password, .. } => (user, password),
        };
        if !labels.insert(label.clone()) {
            return Err(usage(format!(
                "two credentials are labelled {label:?}: give each its own label (label:secret)"
            )));
        }
        if matches!(credential, Credential::Bearer { .. }) && !secrets.insert(secret.clone()) {
            return Err(usage("the same token is given twice"));
        }
    }
    Ok(credentials)
}

/// The dashboard configuration `args` ask for, or why it is refused.
pub fn plan(args: &ServeArgs) -> Result<DashboardConfig, CliError> {
    let credentials = credentials(args)?;
    let mut config = if credentials.is_empty() {
        if !args.bind.ip().is_loopback() && !args.insecure_no_auth {
            return Err(CliError::new(
                EXIT_REFUSED,
                format!(
                    "refusing to serve {} without authentication: set JOBQUEUE_DASHBOARD_TOKEN \
                     (or --basic-auth), bind to 127.0.0.1, or pass --insecure-no-auth",
                    args.bind
                ),
            ));
        }
        let config = DashboardConfig::open_on_loopback();
        // The address it listens on is a name it is reached by.
        match args.bind.ip() {
            ip if ip.is_unspecified() => config,
            IpAddr::V4(ip) => config.allowed_host(&ip.to_string()),
            IpAddr::V6(ip) => config.allowed_host(&format!("[{ip}]")),
        }
    } else {
        DashboardConfig::with_credentials(credentials)
    };
    for host in &args.allowed_host {
        let host = host.trim();
        if host.is_empty() || host.contains(['/', ' ']) {
            return Err(usage(format!(
                "--allowed-host takes a host name or address, got {host:?}"
            )));
        }
        config = config.allowed_host(host);
    }
    let base = args.base_path.trim();
    if !base.is_empty()
        && (!base.starts_with('/')
            || !base
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\')))
    {
        return Err(usage(format!(
            "--base-path takes a path like /jobs, got {base:?}"
        )));
    }
    let config = config
        .read_only(args.read_only)
        .base_path(&args.base_path)
        .session_idle_timeout(Duration::from_secs(args.session_idle_minutes * 60))
        .session_lifetime(Duration::from_secs(args.session_lifetime_hours * 3600))
        .secure_cookies(!args.insecure_cookies)
        .scaling(args.scaling.config()?);
    match &args.csrf_secret {
        Some(secret) if secret.len() < MIN_CSRF_SECRET_LEN => Err(usage(format!(
            "the CSRF secret must be at least {MIN_CSRF_SECRET_LEN} characters"
        ))),
        Some(secret) => Ok(config.csrf_secret(secret)),
        None => Ok(config),
    }
}

/// Runs the server until Ctrl-C / SIGTERM.
pub(crate) async fn run(client: &Client, args: &ServeArgs) -> CliResult {
    let mut config = plan(args)?;
    // Payload keys (JOBQUEUE_PAYLOAD_KEYS): operators see encrypted payloads
    // decrypted on the job page and in the API's job detail.
    let keyring =
        jobqueue_core::Keyring::from_env().map_err(|e| CliError::new(EXIT_USAGE, e.to_string()))?;
    if let Some(keyring) = keyring {
        eprintln!(
            "payload keys: {} (decrypted for operators)",
            keyring.ids().collect::<Vec<_>>().join(", ")
        );
        config = config.payload_keys(keyring);
    }
    // Alert rules (JOBQUEUE_ALERTS_FILE, …): listed on the Alerts page and
    // evaluated by whichever serving process holds the leader lease. The
    // evaluator stops with the server (its handle is dropped).
    let _evaluator = match super::alerts::config_from_env()? {
        Some(alerts) => {
            let alerts = std::sync::Arc::new(alerts);
            config = config.alerts(alerts.clone());
            eprintln!(
                "alerts: {} rules, {} sinks, evaluated every {:?} by one dashboard process",
                alerts.rules.len(),
                alerts.sinks.len(),
                alerts.interval
            );
            Some(
                jobqueue_dashboard::alerts::AlertEvaluator::new(client.admin(), alerts)
                    .map_err(|e| CliError::new(EXIT_USAGE, e.to_string()))?
                    .spawn(),
            )
        }
        None => None,
    };
    if !config.has_credentials() {
        eprintln!(
            "warning: no authentication configured: anyone who can reach {} has operator rights",
            args.bind
        );
    }
    let dashboard = jobqueue_dashboard::dashboard_router(client.admin(), config);
    let router = mount_under(&args.base_path, dashboard);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| CliError::new(EXIT_ERROR, format!("cannot listen on {}: {e}", args.bind)))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::new(EXIT_ERROR, e.to_string()))?;
    eprintln!(
        "jobqueue dashboard on http://{local}{}/",
        args.base_path.trim_end_matches('/')
    );
    // With the peer's address, so the audit log records who connected.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| CliError::new(EXIT_ERROR, format!("server failed: {e}")))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The dashboard answering under `base_path` (opened directly, or behind a
/// proxy that passes the path on) and at the root (behind a proxy that
/// strips it): its links and cookies carry the base path either way.
/// Served at the root only, a browser opening the printed address was
/// sent to `<base>/login`, which the dashboard did not know, again and
/// again until the URL was too long.
fn mount_under(base_path: &str, dashboard: axum::Router) -> axum::Router {
    let base = base_path.trim_end_matches('/');
    if base.is_empty() {
        return dashboard;
    }
    axum::Router::new()
        .nest_service(base, dashboard.clone())
        .fallback_service(dashboard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn args(list: &[&str]) -> ServeArgs {
        let mut argv = vec!["serve"];
        argv.extend_from_slice(list);
        Wrapper::parse_from(argv).args
    }

    #[test]
    fn scaling_targets_are_checked_before_serving() {
        assert!(plan(&args(&["--scaling", "* max=8; mail min=1"])).is_ok());
        let refused = plan(&args(&["--scaling", "* min=3 max=2"])).unwrap_err();
        assert_eq!(refused.code, EXIT_USAGE);
        assert!(refused.message.contains("--scaling"), "{}", refused.message);
    }

    #[test]
    fn open_only_on_loopback_unless_told() {
        assert!(plan(&args(&["--bind", "127.0.0.1:9090"])).is_ok());
        assert!(plan(&args(&["--bind", "[::1]:9090"])).is_ok());
        let refused = plan(&args(&["--bind", "0.0.0.0:9090"])).unwrap_err();
        assert_eq!(refused.code, EXIT_REFUSED);
        assert!(refused.message.contains("--insecure-no-auth"));
        assert!(plan(&args(&["--bind", "0.0.0.0:9090", "--insecure-no-auth"])).is_ok());
        let with_token = plan(&args(&[
            "--bind",
            "0.0.0.0:9090",
            "--token",
            "0123456789abcdef",
        ]))
        .unwrap();
        assert!(with_token.has_credentials());
        assert!(
            plan(&args(&["--allowed-host", "a/b"])).is_err(),
            "a host name, not a URL"
        );
        let open = plan(&args(&[
            "--bind",
            "127.0.0.2:9090",
            "--allowed-host",
            "Jobs.Internal",
        ]))
        .unwrap();
        assert_eq!(
            open.allowed_hosts(),
            Some(&["127.0.0.2".to_owned(), "jobs.internal".to_owned()][..]),
            "the bind address and the names given, lowercased"
        );
    }

    #[test]
    fn refuses_weak_or_malformed_credentials() {
        for bad in [
            &["--token", "short"][..],
            &["--token", "ci:short"],
            &["--basic-auth", "nopassword"],
            &["--basic-auth", "user:"],
            &["--basic-auth", "ops:short-password"],
            &[
                "--token",
                "a:0123456789abcdef",
                "--token",
                "a:fedcba9876543210",
            ],
            &[
                "--token",
                "0123456789abcdef",
                "--read-only-token",
                "0123456789abcdef",
            ],
        ] {
            assert_eq!(plan(&args(bad)).unwrap_err().code, EXIT_USAGE, "{bad:?}");
        }
        assert!(
            plan(&args(&[
                "--basic-auth",
                "ops:a-long-password-0123",
                "--read-only-token",
                "0123456789abcdef"
            ]))
            .is_ok()
        );
    }

    #[test]
    fn every_credential_has_a_label_never_its_secret() {
        let config = plan(&args(&[
            "--token",
            "deploy-bot:0123456789abcdef0123",
            "--token",
            "fedcba9876543210fedc",
            "--read-only-token",
            "grafana:abcdefabcdefabcdef",
        ]))
        .unwrap();
        let labels: Vec<(String, String)> = config
            .credentials()
            .iter()
            .map(|c| match c {
                Credential::Bearer { label, token, .. } => (label.clone(), token.clone()),
                Credential::Basic { user, password, .. } => (user.clone(), password.clone()),
            })
            .collect();
        assert_eq!(labels[0].0, "deploy-bot");
        assert_eq!(labels[0].1, "0123456789abcdef0123");
        assert!(labels[1].0.starts_with("token-") && labels[1].0.len() == 10);
        assert!(!labels[1].0.contains("fedcba"));
        assert_eq!(labels[1].1, "fedcba9876543210fedc");
        assert_eq!(labels[2].0, "grafana");
    }

    #[test]
    fn sign_in_settings_and_a_plain_base_path() {
        assert!(plan(&args(&["--base-path", "/admin/jobs"])).is_ok());
        for bad in ["jobs", "/a;b", "/a b", "/a,b"] {
            assert_eq!(
                plan(&args(&["--base-path", bad])).unwrap_err().code,
                EXIT_USAGE,
                "{bad}"
            );
        }
        assert!(
            Wrapper::try_parse_from(["serve", "--session-idle-minutes", "0"]).is_err(),
            "at least a minute"
        );
        let parsed = args(&[
            "--session-idle-minutes",
            "5",
            "--session-lifetime-hours",
            "1",
            "--insecure-cookies",
        ]);
        assert_eq!(
            (
                parsed.session_idle_minutes,
                parsed.session_lifetime_hours,
                parsed.insecure_cookies
            ),
            (5, 1, true)
        );
        assert!(plan(&parsed).is_ok());
    }

    #[test]
    fn a_shared_csrf_secret_must_be_long() {
        assert_eq!(
            plan(&args(&["--csrf-secret", "short"])).unwrap_err().code,
            EXIT_USAGE
        );
        assert!(plan(&args(&["--csrf-secret", &"x".repeat(32)])).is_ok());
        assert!(
            plan(&args(&["--csrf-token", &"x".repeat(32)])).is_ok(),
            "the old flag name still works"
        );
    }
}
