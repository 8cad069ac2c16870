//! The flags every service takes besides its address and database, each with an environment
//! fallback: token verification, page-token signing, logs, migrations, pool size, shutdown,
//! readiness and limits. A service's `Config` flattens [`ServiceArgs`] next to its own flags.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;

use super::LimitArgs;
use super::tls::TlsArgs;
use crate::auth::AuthArgs;
use crate::metrics::BoundAddress;
use crate::telemetry::LogFormat;

/// The default `--shutdown-grace`.
pub const DEFAULT_SHUTDOWN_GRACE: &str = "20s";

/// Shortest page token secret accepted, in bytes.
const MIN_PAGE_TOKEN_SECRET_LEN: usize = 16;

#[derive(Clone, Debug, clap::Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Key that signs page tokens; derived from the JWT secret when absent (required with a
    /// public key only).
    #[arg(long, env = "PAGE_TOKEN_SECRET", hide_env_values = true)]
    pub page_token_secret: Option<String>,
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Do not apply database migrations at start.
    #[arg(long, env = "SKIP_MIGRATIONS", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub skip_migrations: bool,
    /// Largest number of database connections (reads, on SQLite).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,
    /// How long calls in flight may finish after SIGTERM (or Ctrl-C) before the process exits
    /// anyway, such as `20s`; keep it below the pod's terminationGracePeriodSeconds.
    #[arg(long, env = "SHUTDOWN_GRACE", value_name = "DURATION", default_value = DEFAULT_SHUTDOWN_GRACE, value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
    /// How often readiness pings the database, in milliseconds.
    #[arg(long, env = "HEALTH_CHECK_INTERVAL_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..))]
    pub health_check_interval_ms: u64,
    /// Address of the Prometheus `GET /metrics` endpoint, such as `0.0.0.0:9090`; no endpoint
    /// (and no metrics recorded) when unset.
    #[arg(long, env = "METRICS_LISTEN_ADDR", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Where the metrics endpoint was bound, once it is (port 0 made concrete).
    #[arg(skip)]
    pub metrics_bound: BoundAddress,
    /// Address of a second, plaintext listener serving only `grpc.health.v1.Health`, such as
    /// `0.0.0.0:50060`: for probes that cannot speak TLS (Kubernetes' gRPC probes) when the
    /// gRPC port serves TLS. None when unset.
    #[arg(long, env = "HEALTH_LISTEN_ADDR", value_name = "ADDR")]
    pub health_listen: Option<SocketAddr>,
    /// Where the health listener was bound, once it is (port 0 made concrete).
    #[arg(skip)]
    pub health_bound: BoundAddress,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl ServiceArgs {
    /// Checks the values clap cannot, with messages naming the bad value (never a secret).
    pub fn validate(&self) -> anyhow::Result<()> {
        self.auth.validate()?;
        self.tls.validate()?;
        if self.database_max_connections == 0 {
            bail!("--database-max-connections (DATABASE_MAX_CONNECTIONS) must be at least 1, got 0");
        }
        if self.shutdown_grace > Duration::from_secs(3600) {
            bail!(
                "--shutdown-grace (SHUTDOWN_GRACE) must be at most 1h, got {}",
                humantime::format_duration(self.shutdown_grace)
            );
        }
        self.limits.validate()?;
        self.page_token_key()?;
        Ok(())
    }

    /// The page token signing key: `--page-token-secret`, else derived from the JWT secret.
    pub fn page_token_key(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.page_token_secret {
            if secret.len() < MIN_PAGE_TOKEN_SECRET_LEN {
                bail!(
                    "--page-token-secret (PAGE_TOKEN_SECRET) must be at least {MIN_PAGE_TOKEN_SECRET_LEN} bytes, got {}",
                    secret.len()
                );
            }
            return Ok(secret.as_bytes().to_vec());
        }
        match self.auth.jwt_secret.as_deref() {
            Some(secret) => Ok(crate::paging::derive_key(secret.as_bytes(), "page-token")),
            None => bail!(
                "--page-token-secret (PAGE_TOKEN_SECRET) is required when tokens are checked with a public key or a JWK set only"
            ),
        }
    }

    pub fn health_check_interval(&self) -> Duration {
        Duration::from_millis(self.health_check_interval_ms)
    }
}
