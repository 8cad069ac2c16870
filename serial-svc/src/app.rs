//! Startup wiring: the configuration, and [`serve`], which connects the database, applies the
//! migrations, and serves `SerialService`, `CatalogService`, health and reflection until the
//! shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use regserial::serial::v1::catalog_service_server::SERVICE_NAME as CATALOG_SERVICE;
use regserial::serial::v1::serial_service_server::SERVICE_NAME as SERIAL_SERVICE;
use shared::auth::AuthArgs;
use shared::clock::SharedClock;
use shared::paging::PageTokens;
use shared::server::{Health, Listener, ServerBuilder, spawn_readiness};
use shared::telemetry::LogFormat;
use tonic::service::interceptor::InterceptedService;

use crate::grpc::{Api, DOMAIN};
use crate::store::Store;

/// The gRPC services whose health serial-svc reports.
pub const HEALTH_SERVICES: &[&str] = &[SERIAL_SERVICE, CATALOG_SERVICE];
/// How long a `request_id` is remembered: the API promises at least 24 hours.
pub const REQUEST_KEY_RETENTION: chrono::Duration = chrono::Duration::hours(48);
/// How often forgotten request keys are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// Shortest page token secret accepted, in bytes.
const MIN_PAGE_TOKEN_SECRET_LEN: usize = 16;

/// serial-svc's configuration: flags, each with an environment fallback.
#[derive(Clone, clap::Parser)]
#[command(
    name = "serial-svc",
    version,
    about = "regserial serial-svc: serial numbers and the product catalog"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:50051")]
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db` or `postgres://user:password@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://serial-svc.db", hide_env_values = true)]
    pub database_url: String,
    #[command(flatten)]
    pub auth: AuthArgs,
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
    /// How long in-flight calls may finish after shutdown begins, in seconds.
    #[arg(long, env = "DRAIN_TIMEOUT_SECS", default_value_t = 20)]
    pub drain_timeout_secs: u64,
    /// How often readiness pings the database, in milliseconds.
    #[arg(long, env = "HEALTH_CHECK_INTERVAL_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..))]
    pub health_check_interval_ms: u64,
}

impl Config {
    /// Checks the values clap cannot, with messages naming the bad value (never a secret).
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.database_max_connections == 0 {
            bail!("--database-max-connections (DATABASE_MAX_CONNECTIONS) must be at least 1, got 0");
        }
        if self.drain_timeout_secs > 3600 {
            bail!(
                "--drain-timeout-secs (DRAIN_TIMEOUT_SECS) must be at most 3600, got {}",
                self.drain_timeout_secs
            );
        }
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
            Some(secret) => Ok(shared::paging::derive_key(secret.as_bytes(), "page-token")),
            None => bail!(
                "--page-token-secret (PAGE_TOKEN_SECRET) is required when tokens are checked with a public key only"
            ),
        }
    }

    fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout_secs)
    }
}

/// Serves serial-svc on `listener` until `shutdown` resolves, then drains in-flight calls.
pub async fn serve(
    config: Config,
    listener: Listener,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.validate()?;
    let authenticator = config.auth.authenticator(DOMAIN)?;
    let tokens = PageTokens::new(&config.page_token_key()?);
    let db = shared::db::connect(&config.database_url, config.database_max_connections).await?;
    tracing::info!(
        database = %shared::db::redact_url(&config.database_url),
        backend = db.backend_name(),
        "database connected"
    );
    let store = Store::new(db.clone());
    if config.skip_migrations {
        tracing::info!("migrations skipped");
    } else {
        store.migrate().await.context("cannot apply database migrations")?;
        tracing::info!("migrations applied");
    }

    let (health, _) = Health::new(HEALTH_SERVICES);
    let readiness = spawn_readiness(
        health.clone(),
        db.clone(),
        Duration::from_millis(config.health_check_interval_ms),
        health.draining(),
    );
    let purge = tokio::spawn(purge_request_keys(store.clone(), clock.clone()));
    let api = Api::new(store, clock, tokens);
    let served = ServerBuilder::new(&health, &[regserial::FILE_DESCRIPTOR_SET])?
        .add_service(InterceptedService::new(api.serial_service(), authenticator.clone()))
        .add_service(InterceptedService::new(api.catalog_service(), authenticator))
        .serve(listener, shutdown, config.drain_timeout())
        .await;

    purge.abort();
    health.start_draining();
    if let Err(err) = readiness.await {
        tracing::warn!(error = %err, "readiness task ended abnormally");
    }
    db.close().await;
    tracing::info!("serial-svc stopped");
    served
}

/// Every hour, forgets request keys older than [`REQUEST_KEY_RETENTION`].
async fn purge_request_keys(store: Store, clock: SharedClock) {
    let mut every = tokio::time::interval(PURGE_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let before = clock.now() - REQUEST_KEY_RETENTION;
        match store.purge_request_keys(before).await {
            Ok(purged) => tracing::debug!(purged, %before, "request keys purged"),
            Err(err) => tracing::warn!(error = %err, cause = ?err, "cannot purge request keys"),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("serial-svc").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn the_page_token_key_is_derived_from_the_jwt_secret_when_not_given() {
        let config = parse(&["--jwt-secret", "s3cret-s3cret"]);
        assert_eq!(
            config.page_token_key().unwrap(),
            shared::paging::derive_key(b"s3cret-s3cret", "page-token")
        );
        let config = parse(&["--jwt-secret", "s3cret-s3cret", "--page-token-secret", "0123456789abcdef"]);
        assert_eq!(config.page_token_key().unwrap(), b"0123456789abcdef");
    }

    #[test]
    fn a_public_key_alone_needs_a_page_token_secret() {
        let config = parse(&["--jwt-public-key-file", "/keys/jwt.pem"]);
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("--page-token-secret") && err.contains("public key"), "{err}");
    }

    #[test]
    fn bad_values_are_named_without_showing_secrets() {
        let config = parse(&["--jwt-secret", "x", "--page-token-secret", "short-secret"]);
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("--page-token-secret") && !err.contains("short-secret"), "{err}");
        let config = parse(&["--jwt-secret", "x", "--database-max-connections", "0"]);
        assert!(config.validate().unwrap_err().to_string().contains("--database-max-connections"));
        let err = Config::try_parse_from(["serial-svc", "--listen", "nowhere"]).err().unwrap().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }

    #[test]
    fn defaults_let_the_service_start_with_only_a_secret() {
        let config = parse(&["--jwt-secret", "x"]);
        assert_eq!(config.listen.to_string(), "0.0.0.0:50051");
        assert_eq!(config.database_url, "sqlite://serial-svc.db");
        assert!(!config.skip_migrations);
        assert_eq!((config.database_max_connections, config.drain_timeout_secs), (8, 20));
        assert!(parse(&["--jwt-secret", "x", "--skip-migrations"]).skip_migrations);
        assert!(!parse(&["--jwt-secret", "x", "--skip-migrations=false"]).skip_migrations);
    }
}
