//! Startup wiring: the configuration, and [`serve`], which connects the database, applies the
//! migrations, and serves `SerialService`, `CatalogService`, health and reflection until the
//! shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;

use regserial::serial::v1::catalog_service_server::SERVICE_NAME as CATALOG_SERVICE;
use regserial::serial::v1::serial_service_server::SERVICE_NAME as SERIAL_SERVICE;
use shared::clock::SharedClock;
use shared::db::request_keys::{PURGE_INTERVAL, RETENTION};
use shared::server::{Listener, Prepared, ServiceArgs, Startup};

use crate::grpc::{Api, DOMAIN};
use crate::store::{ServiceStore, Store};

/// The gRPC services whose health serial-svc reports.
pub const HEALTH_SERVICES: &[&str] = &[SERIAL_SERVICE, CATALOG_SERVICE];

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
    pub service: ServiceArgs,
}

/// Serves serial-svc on `listener` until `shutdown` resolves, then drains in-flight calls.
pub async fn serve(
    config: Config,
    listener: Listener,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let args = &config.service;
    args.validate()?;
    let Prepared { authenticator, limits, server, tokens, db, mut startup } =
        Startup::prepare(args, &config.database_url, HEALTH_SERVICES, DOMAIN).await?;
    let store = Store::new(db);
    startup.spawn_when_ready(purge_request_keys(store.clone(), clock.clone()));
    let api = Api::new(store.clone(), clock, tokens);
    let server = startup
        .builder(server, &limits, &[regserial::FILE_DESCRIPTOR_SET])?
        .add_service(authenticator.wrap(limits.rate_limited(api.serial_service())))
        .add_service(authenticator.wrap(limits.rate_limited(api.catalog_service())));
    let migrate = move || {
        let store = store.clone();
        async move { store.migrate().await }
    };
    startup.serve("serial-svc", server, listener, shutdown, args, migrate).await
}

/// Every hour, forgets request keys older than [`RETENTION`].
async fn purge_request_keys(store: Store, clock: SharedClock) {
    let mut every = tokio::time::interval(PURGE_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let before = clock.now() - RETENTION;
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
            config.service.page_token_key().unwrap(),
            shared::paging::derive_key(b"s3cret-s3cret", "page-token")
        );
        let config = parse(&["--jwt-secret", "s3cret-s3cret", "--page-token-secret", "0123456789abcdef"]);
        assert_eq!(config.service.page_token_key().unwrap(), b"0123456789abcdef");
    }

    #[test]
    fn a_public_key_alone_needs_a_page_token_secret() {
        let config = parse(&["--jwt-public-key-file", "/keys/jwt.pem"]);
        let err = config.service.validate().unwrap_err().to_string();
        assert!(err.contains("--page-token-secret") && err.contains("public key"), "{err}");
    }

    #[test]
    fn bad_values_are_named_without_showing_secrets() {
        let config = parse(&["--jwt-secret", "x", "--page-token-secret", "short-secret"]);
        let err = config.service.validate().unwrap_err().to_string();
        assert!(err.contains("--page-token-secret") && !err.contains("short-secret"), "{err}");
        let config = parse(&["--jwt-secret", "x", "--database-max-connections", "0"]);
        assert!(config.service.validate().unwrap_err().to_string().contains("--database-max-connections"));
        let err = Config::try_parse_from(["serial-svc", "--listen", "nowhere"]).err().unwrap().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }

    #[test]
    fn defaults_let_the_service_start_with_only_a_secret() {
        let config = parse(&["--jwt-secret", "x"]);
        assert_eq!(config.listen.to_string(), "0.0.0.0:50051");
        assert_eq!(config.database_url, "sqlite://serial-svc.db");
        assert!(!config.service.skip_migrations);
        assert_eq!(config.service.database_max_connections, 8);
        assert_eq!(config.service.shutdown_grace, std::time::Duration::from_secs(20));
        assert!(parse(&["--jwt-secret", "x", "--skip-migrations"]).service.skip_migrations);
        assert!(!parse(&["--jwt-secret", "x", "--skip-migrations=false"]).service.skip_migrations);
    }
}
