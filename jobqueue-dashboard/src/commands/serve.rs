//! `jobqueue serve`: the dashboard over HTTP.
//!
//! Secure by default: with no credentials configured it serves only on a
//! loopback address (and says the dashboard is open to local users); on any
//! other address it refuses to start unless `--insecure-no-auth` is given.

use std::net::SocketAddr;

use clap::Args;
use jobqueue_core::Client;

use super::exit::{CliError, CliResult, EXIT_ERROR, EXIT_REFUSED, EXIT_USAGE};
use crate::web::config::{Credential, DashboardConfig, Role};

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
    /// Bearer token with operator rights (prefer the env var: flags show in `ps`).
    #[arg(long, env = "JOBQUEUE_DASHBOARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Bearer token with read-only rights.
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_READ_ONLY_TOKEN",
        hide_env_values = true
    )]
    pub read_only_token: Option<String>,
    /// Basic-auth `user:password` with operator rights (browsers prompt for it).
    #[arg(long, env = "JOBQUEUE_DASHBOARD_BASIC_AUTH", hide_env_values = true)]
    pub basic_auth: Option<String>,
    /// Basic-auth `user:password` with read-only rights.
    #[arg(
        long,
        env = "JOBQUEUE_DASHBOARD_READ_ONLY_BASIC_AUTH",
        hide_env_values = true
    )]
    pub read_only_basic_auth: Option<String>,
    /// Nobody may change anything, whatever their credentials.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_READ_ONLY")]
    pub read_only: bool,
    /// Serve without authentication on a non-loopback address (dangerous).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// CSRF token shared by every replica behind a load balancer (32+
    /// characters); default: random per process.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_CSRF_TOKEN", hide_env_values = true)]
    pub csrf_token: Option<String>,
    /// Path prefix the dashboard is served under behind a reverse proxy.
    #[arg(long, env = "JOBQUEUE_DASHBOARD_BASE_PATH", default_value = "")]
    pub base_path: String,
}

/// The dashboard configuration `args` ask for, or why it is refused.
pub fn plan(args: &ServeArgs) -> Result<DashboardConfig, CliError> {
    let mut credentials = Vec::new();
    for (token, role, label) in [
        (&args.token, Role::Operator, "token"),
        (&args.read_only_token, Role::ReadOnly, "read-only token"),
    ] {
        if let Some(token) = token {
            if token.len() < 16 {
                return Err(CliError::new(
                    EXIT_USAGE,
                    format!("the {label} must be at least 16 characters"),
                ));
            }
            credentials.push(Credential::Bearer {
                token: token.clone(),
                label: label.to_owned(),
                role,
            });
        }
    }
    for (pair, role) in [
        (&args.basic_auth, Role::Operator),
        (&args.read_only_basic_auth, Role::ReadOnly),
    ] {
        if let Some(pair) = pair {
            let Some((user, password)) = pair.split_once(':') else {
                return Err(CliError::new(
                    EXIT_USAGE,
                    "basic auth is given as user:password",
                ));
            };
            if user.is_empty() || password.is_empty() {
                return Err(CliError::new(
                    EXIT_USAGE,
                    "basic auth needs a user and a password",
                ));
            }
            credentials.push(Credential::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
                role,
            });
        }
    }
    let config = if credentials.is_empty() {
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
        DashboardConfig::behind_host_auth(Role::Operator)
    } else {
        DashboardConfig::with_credentials(credentials)
    };
    let config = config.read_only(args.read_only).base_path(&args.base_path);
    match &args.csrf_token {
        Some(token) if token.len() < 32 => Err(CliError::new(
            EXIT_USAGE,
            "the CSRF token must be at least 32 characters",
        )),
        Some(token) => Ok(config.csrf_token(token)),
        None => Ok(config),
    }
}

/// Runs the server until Ctrl-C / SIGTERM.
pub async fn run(client: &Client, args: &ServeArgs) -> CliResult {
    let config = plan(args)?;
    if !config.has_credentials() {
        eprintln!(
            "warning: no authentication configured: anyone who can reach {} has operator rights",
            args.bind
        );
    }
    let router = crate::web::dashboard_router(client.admin(), config);
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
    axum::serve(listener, router)
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
    }

    #[test]
    fn refuses_weak_or_malformed_credentials() {
        assert_eq!(
            plan(&args(&["--token", "short"])).unwrap_err().code,
            EXIT_USAGE
        );
        assert_eq!(
            plan(&args(&["--basic-auth", "nopassword"]))
                .unwrap_err()
                .code,
            EXIT_USAGE
        );
        assert_eq!(
            plan(&args(&["--basic-auth", "user:"])).unwrap_err().code,
            EXIT_USAGE
        );
        assert!(
            plan(&args(&[
                "--basic-auth",
                "ops:pw",
                "--read-only-token",
                "0123456789abcdef"
            ]))
            .is_ok()
        );
    }

    #[test]
    fn a_shared_csrf_token_must_be_long() {
        assert_eq!(
            plan(&args(&["--csrf-token", "short"])).unwrap_err().code,
            EXIT_USAGE
        );
        assert!(plan(&args(&["--csrf-token", &"x".repeat(32)])).is_ok());
    }
}
