//! One benchmark run: a fresh database, a serial-svc child with a random secret, a token, and the
//! cleanup of all three whatever the outcome (errors and Ctrl-C included).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use tonic::transport::Channel;

use crate::args::{Backend, ServerArgs};
use crate::database::FreshDatabase;
use crate::server::{self, RunningServer, ServerConfig};
use crate::token;

/// What a benchmark body gets: a running serial-svc and the means to call it.
#[derive(Clone)]
pub struct Bench {
    pub addr: SocketAddr,
    pub pid: u32,
    pub channel: Channel,
    pub token: String,
    /// A temporary directory removed after the run.
    pub work_dir: PathBuf,
}

/// Runs `body` against a fresh serial-svc on `backend`, then stops it and removes its database.
pub async fn with_server<T, F, Fut>(args: &ServerArgs, backend: Backend, body: F) -> anyhow::Result<T>
where
    F: FnOnce(Bench) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let bin = server::resolve_bin(args.serial_svc_bin.as_deref(), "serial-svc")?;
    with_database(args, backend, |url, work_dir| async move {
        eprintln!("{}: starting {} on a fresh database", backend.name(), bin.display());
        let secret = token::random_secret();
        let token = token::mint(&secret)?;
        let log_path = work_dir.join("serial-svc.log");
        let mut server = start_serial_svc(args, &bin, &url, &secret, log_path, &[], &[]).await?;
        let bench =
            Bench { addr: server.addr(), pid: server.pid(), channel: server.channel(), token, work_dir };
        let outcome = body(bench).await.and_then(|value| server.ensure_running().map(|()| value));
        if outcome.is_err() {
            server.print_log_tail();
        }
        server.stop().await;
        outcome
    })
    .await
}

/// serial-svc `bin` on `database_url`, with `extra_args` and `env` (telemetry's, say).
pub async fn start_serial_svc(
    args: &ServerArgs,
    bin: &Path,
    database_url: &str,
    jwt_secret: &str,
    log_path: PathBuf,
    extra_args: &[String],
    env: &[(&'static str, String)],
) -> anyhow::Result<RunningServer> {
    RunningServer::start(ServerConfig {
        bin,
        health_service: server::SERIAL_SERVICE,
        extra_args,
        env,
        database_url,
        jwt_secret,
        rust_log: &args.server_rust_log,
        log_path,
        startup_timeout: Duration::from_secs(args.startup_timeout_secs),
    })
    .await
}

/// Runs `body` with the url of a fresh database on `backend` and a temporary directory, then
/// removes both, whatever the outcome (Ctrl-C included).
pub async fn with_database<T, F, Fut>(args: &ServerArgs, backend: Backend, body: F) -> anyhow::Result<T>
where
    F: FnOnce(String, PathBuf) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let work = tempfile::Builder::new()
        .prefix("regserial-bench-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let database = FreshDatabase::create(backend, &args.postgres_url, work.path()).await?;
    let outcome = tokio::select! {
        outcome = body(database.url().to_owned(), work.path().to_path_buf()) => outcome,
        () = interrupted() => Err(anyhow!("interrupted")),
    };
    let removed = database.remove().await;
    match (outcome, removed) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(error)) => Err(error),
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(remove_error)) => {
            eprintln!("regserial-bench: also failed to clean up: {remove_error:#}");
            Err(error)
        }
    }
}

/// Ctrl-C or SIGTERM (`kill`, `pkill`): either way the bench stops the services it started and
/// drops their databases before it exits, rather than leaving them running.
pub async fn interrupted() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        },
        Err(_) => drop(tokio::signal::ctrl_c().await),
    }
}
