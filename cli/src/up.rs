//! `regserial up`: serial-svc and registration-svc in this process on embedded SQLite,
//! registration-svc claiming serials from serial-svc over real gRPC on loopback, with a
//! development token and a grpcurl walkthrough printed once both are serving.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use regserial::registration::v1::registration_service_server::SERVICE_NAME as REGISTRATION_SERVICE;
use regserial::serial::v1::serial_service_server::SERVICE_NAME as SERIAL_SERVICE;
use shared::auth::{AuthArgs, Scope};
use shared::clock::SystemClock;
use shared::server::{Listener, ServiceArgs, TlsArgs};
use shared::telemetry::LogFormat;

use crate::banner;
use crate::supervisor::Supervisor;

/// The HS256 secret `up` uses unless told otherwise: for development only.
pub const DEV_JWT_SECRET: &str = "regserial-dev-secret";
/// The organization of the printed development token.
const DEV_ORG: &str = "acme";
/// The subject of the printed development token.
const DEV_SUBJECT: &str = "regserial-dev";
/// Lifetime of the printed development token.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long the services have to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long in-flight calls may finish once Ctrl-C is pressed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(clap::Args)]
pub struct UpArgs {
    /// Directory of the SQLite databases (created if missing).
    #[arg(long, default_value = "./regserial-data")]
    data_dir: PathBuf,
    /// Address serial-svc listens on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    serial_listen: SocketAddr,
    /// Address registration-svc listens on.
    #[arg(long, default_value = "127.0.0.1:50052")]
    registration_listen: SocketAddr,
    /// HS256 secret tokens are signed with (default: a development secret).
    #[arg(long, env = "AUTH_JWT_SECRET", hide_env_values = true, value_name = "SECRET")]
    jwt_secret: Option<String>,
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let _telemetry = shared::telemetry::init("regserial", LogFormat::Text)?;
    let secret = match args.jwt_secret.clone().filter(|secret| !secret.is_empty()) {
        Some(secret) => secret,
        None => {
            eprintln!(
                "warning: signing tokens with the development secret {DEV_JWT_SECRET:?}: for development only, \
                 set --jwt-secret (AUTH_JWT_SECRET) for anything else"
            );
            DEV_JWT_SECRET.to_owned()
        }
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create --data-dir {}", args.data_dir.display()))?;

    let mut supervisor = Supervisor::new();
    let serial_addr = start_serial_svc(&mut supervisor, &args, &secret).await?;
    let registration_addr = start_registration_svc(&mut supervisor, &args, &secret, serial_addr).await?;
    let running = async {
        supervisor.wait_until_serving(READY_TIMEOUT).await?;
        let token =
            shared::auth::mint_hs256(secret.as_bytes(), DEV_ORG, DEV_SUBJECT, &Scope::ALL, DEV_TOKEN_TTL)?;
        println!("{}", banner::render(serial_addr, registration_addr, DEV_ORG, &token));
        supervisor.run_until(shared::server::shutdown_signal()).await
    }
    .await;
    let stopped = supervisor.stop().await;
    running.and(stopped)
}

/// Binds serial-svc's address and starts it on `<data-dir>/serial.db`; returns the bound address.
async fn start_serial_svc(
    supervisor: &mut Supervisor,
    args: &UpArgs,
    secret: &str,
) -> anyhow::Result<SocketAddr> {
    let config = serial_svc::app::Config {
        listen: args.serial_listen,
        database_url: sqlite_url(&args.data_dir, "serial.db"),
        service: service_args(secret),
    };
    config.service.validate()?;
    let listener = bind(config.listen, "--serial-listen").await?;
    let addr = listener.local_addr();
    tracing::info!(address = %addr, "serial-svc listening");
    let serve = serial_svc::app::serve(config, listener, Arc::new(SystemClock), supervisor.shutdown());
    supervisor.spawn("serial-svc", addr, SERIAL_SERVICE, serve);
    Ok(addr)
}

/// Binds registration-svc's address and starts it on `<data-dir>/registration.db`, calling
/// serial-svc at `serial`; returns the bound address.
async fn start_registration_svc(
    supervisor: &mut Supervisor,
    args: &UpArgs,
    secret: &str,
    serial: SocketAddr,
) -> anyhow::Result<SocketAddr> {
    let mut config = <registration_svc::app::Config as clap::Parser>::try_parse_from(["registration-svc"])
        .context("registration-svc's defaults")?;
    config.listen = args.registration_listen;
    config.database_url = sqlite_url(&args.data_dir, "registration.db");
    config.service = service_args(secret);
    config.serial_endpoint = format!("http://{}", banner::dial_addr(serial));
    config.validate()?;
    let listener = bind(config.listen, "--registration-listen").await?;
    let addr = listener.local_addr();
    tracing::info!(address = %addr, "registration-svc listening");
    let serve = registration_svc::app::serve(config, listener, Arc::new(SystemClock), supervisor.shutdown());
    supervisor.spawn("registration-svc", addr, REGISTRATION_SERVICE, serve);
    Ok(addr)
}

/// What both services run with under `up`: the HS256 `secret`, text logs, a short drain.
fn service_args(secret: &str) -> ServiceArgs {
    ServiceArgs {
        auth: AuthArgs { jwt_secret: Some(secret.to_owned()), ..AuthArgs::default() },
        // Plaintext: `up` is for one machine.
        tls: TlsArgs::default(),
        page_token_secret: None,
        log_format: LogFormat::Text,
        skip_migrations: false,
        database_max_connections: 8,
        shutdown_grace: SHUTDOWN_GRACE,
        health_check_interval_ms: 2000,
        limits: shared::server::LimitArgs::default(),
        metrics_listen: None,
        metrics_bound: Default::default(),
        health_listen: None,
        health_bound: Default::default(),
    }
}

async fn bind(addr: SocketAddr, flag: &str) -> anyhow::Result<Listener> {
    Listener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another regserial up running? see {flag})"))
}

fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}", dir.join(file).display())
}
