//! Startup wiring: the configuration, and [`serve`], which connects the database, applies the
//! migrations, starts the recovery worker and serves `RegistrationService`, health and
//! reflection until the shutdown future resolves.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use regserial::registration::v1::registration_service_server::SERVICE_NAME;
use shared::auth::TokenSigner;
use shared::clock::SharedClock;
use shared::server::{Listener, Prepared, ServiceArgs, Startup};

use crate::domain::ReviewPeriod;
use crate::grpc::{Api, DOMAIN};
use crate::ops::{RecoveryWorker, Saga, WorkerConfig};
use crate::serial_client::{CallPolicy, SerialClient};
use crate::store::{ServiceStore, Store};

/// The gRPC services whose health registration-svc reports.
pub const HEALTH_SERVICES: &[&str] = &[SERVICE_NAME];

/// registration-svc's configuration: flags, each with an environment fallback.
#[derive(Clone, clap::Parser)]
#[command(
    name = "registration-svc",
    version,
    about = "regserial registration-svc: product registrations and their serials' claims"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:50052")]
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db` or `postgres://user:password@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://registration-svc.db",
        hide_env_values = true
    )]
    pub database_url: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    /// serial-svc's address: `http://host:port`, or `https://host:port` to reach it over TLS.
    #[arg(long, env = "SERIAL_SVC_ENDPOINT", default_value = "http://127.0.0.1:50051")]
    pub serial_endpoint: String,
    /// PEM CA certificate(s) that serial-svc's TLS certificate must chain to (with an https://
    /// --serial-endpoint; without it, Mozilla's roots as compiled in by webpki-roots).
    #[arg(long, env = "SERIAL_SVC_CA_FILE", value_name = "PATH")]
    pub serial_ca: Option<PathBuf>,
    /// Deadline of each call to serial-svc, in milliseconds.
    #[arg(long, env = "SERIAL_SVC_DEADLINE_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub serial_deadline_ms: u64,
    /// Tries of a call to serial-svc that timed out or found it unreachable, the first included.
    #[arg(long, env = "SERIAL_SVC_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub serial_attempts: u32,
    /// Days a registration may stay PENDING before it expires.
    #[arg(long, env = "REVIEW_PERIOD_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub review_period_days: u32,
    /// Pause between the recovery worker's passes, in milliseconds.
    #[arg(long, env = "RECOVERY_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..))]
    pub recovery_interval_ms: u64,
    /// How long an attempt or intent is left to the request that started it (or to the worker
    /// pass that took it) before the recovery worker takes it over, in milliseconds. Must
    /// exceed the longest call to serial-svc with its retries.
    #[arg(long, env = "RECOVERY_LEASE_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(100..))]
    pub recovery_lease_ms: u64,
    /// PEM private key (Ed25519 or RSA) the recovery worker signs its tokens with; required when
    /// tokens are verified with a public key or a JWK set, else the worker signs with the JWT
    /// secret. serial-svc must accept its tokens: its public key, or a JWK of it in serial-svc's
    /// JWK set under --service-token-key-id.
    #[arg(long, env = "SERVICE_TOKEN_KEY_FILE", value_name = "PATH")]
    pub service_token_key_file: Option<PathBuf>,
    /// The `kid` the recovery worker's tokens carry in their header, so that a serial-svc
    /// verifying with a JWK set finds the worker's key among several.
    #[arg(long, env = "SERVICE_TOKEN_KEY_ID", value_name = "KID")]
    pub service_token_key_id: Option<String>,
}

impl Config {
    /// Checks the values clap cannot, with messages naming the bad value (never a secret).
    pub fn validate(&self) -> anyhow::Result<()> {
        self.service.validate()?;
        self.signer()?;
        self.serial_tls()?;
        if !(self.serial_endpoint.starts_with("http://") || self.serial_endpoint.starts_with("https://")) {
            bail!(
                "--serial-endpoint (SERIAL_SVC_ENDPOINT) must be an http:// or https:// URL, got {}",
                self.serial_endpoint
            );
        }
        let longest_call = self.serial_deadline_ms.saturating_mul(u64::from(self.serial_attempts));
        if self.recovery_lease_ms <= longest_call {
            bail!(
                "--recovery-lease-ms (RECOVERY_LEASE_MS) must exceed --serial-deadline-ms x --serial-attempts ({longest_call} ms), got {}",
                self.recovery_lease_ms
            );
        }
        Ok(())
    }

    /// What the recovery worker signs its tokens with; they carry this service's --jwt-issuer
    /// and --jwt-audience, if set (serial-svc is to expect the same).
    pub fn signer(&self) -> anyhow::Result<TokenSigner> {
        let auth = &self.service.auth;
        let signer = self.signing_key()?;
        Ok(signer.with_issuer_and_audience(auth.jwt_issuer.clone(), auth.jwt_audience.clone()))
    }

    fn signing_key(&self) -> anyhow::Result<TokenSigner> {
        match (&self.service_token_key_file, &self.service.auth.jwt_secret) {
            (Some(path), _) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --service-token-key-file {}", path.display()))?;
                let signer = TokenSigner::from_private_key_pem(&pem)
                    .with_context(|| format!("invalid --service-token-key-file {}", path.display()))?;
                Ok(signer.with_key_id(self.service_token_key_id.clone()))
            }
            (None, Some(_)) if self.service_token_key_id.is_some() => bail!(
                "--service-token-key-id (SERVICE_TOKEN_KEY_ID) needs --service-token-key-file (SERVICE_TOKEN_KEY_FILE)"
            ),
            (None, Some(secret)) => Ok(TokenSigner::hs256(secret.as_bytes())),
            (None, None) => bail!(
                "--service-token-key-file (SERVICE_TOKEN_KEY_FILE) is required when tokens are checked with a public key or a JWK set only"
            ),
        }
    }

    /// TLS to serial-svc: None for an http:// endpoint (an error with --serial-ca), else the
    /// CA of --serial-ca or the webpki roots, and the endpoint's host as the name to verify.
    pub fn serial_tls(&self) -> anyhow::Result<Option<tonic::transport::ClientTlsConfig>> {
        crate::serial_tls::client_tls(&self.serial_endpoint, self.serial_ca.as_deref())
    }

    pub fn call_policy(&self) -> CallPolicy {
        CallPolicy {
            deadline: Duration::from_millis(self.serial_deadline_ms),
            attempts: self.serial_attempts,
            ..CallPolicy::default()
        }
    }

    pub fn worker_config(&self) -> WorkerConfig {
        let days = chrono::Duration::days(i64::from(self.review_period_days));
        WorkerConfig {
            interval: Duration::from_millis(self.recovery_interval_ms),
            batch: 100,
            review_period: ReviewPeriod::new(days).unwrap_or_default(),
        }
    }
}

/// Serves registration-svc on `listener` until `shutdown` resolves, then drains in-flight calls.
pub async fn serve(
    config: Config,
    listener: Listener,
    clock: SharedClock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.validate()?;
    let args = &config.service;
    let Prepared { authenticator, limits, server, tokens, db, mut startup } =
        Startup::prepare(args, &config.database_url, HEALTH_SERVICES, DOMAIN).await?;
    let lease = chrono::Duration::milliseconds(i64::try_from(config.recovery_lease_ms).unwrap_or(i64::MAX));
    let store = Store::new(db).with_lease(lease);
    let serials =
        SerialClient::connect_lazy_tls(&config.serial_endpoint, config.call_policy(), config.serial_tls()?)
            .with_context(|| format!("invalid --serial-endpoint {}", config.serial_endpoint))?;
    let saga = Saga::new(store.clone(), serials);

    let worker = RecoveryWorker::new(saga.clone(), config.signer()?, clock.clone(), config.worker_config());
    // Stopping the worker mid-pass is safe: what it leased is due again when the lease ends.
    startup.spawn_when_ready(worker.run());
    if args.metrics_listen.is_some() {
        startup.spawn_when_ready(crate::ops::backlog::report_open_attempts(store.clone()));
    }
    let api = Api::new(saga, clock, tokens);
    let server = startup
        .builder(server, &limits, &[regserial::FILE_DESCRIPTOR_SET])?
        .add_service(authenticator.wrap(limits.rate_limited(api.registration_service())));
    let migrate = move || {
        let store = store.clone();
        async move { store.migrate().await }
    };
    startup.serve("registration-svc", server, listener, shutdown, args, migrate).await
}
