//! The steps every service takes around its own wiring, in the same order: bind and say where,
//! connect the database and say which, migrate unless told not to, report readiness while
//! serving, and on the way out drain, stop the readiness checks and close the pools. Each
//! service's `app::serve` keeps only what is its own (the store, background tasks, the gRPC
//! services), so the order of the common steps cannot drift between them.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use tokio::task::JoinHandle;

use super::{Health, Listener, ServiceArgs, spawn_readiness};
use crate::db::{self, Db};

/// The process's exit code for the outcome of `run`, logging a failure with its whole chain.
pub fn exit_code(service: &str, outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "{service} failed");
            ExitCode::FAILURE
        }
    }
}

/// Binds `addr` (port 0 allowed) and logs the address actually bound.
pub async fn bind(service: &str, addr: SocketAddr) -> anyhow::Result<Listener> {
    let listener = Listener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(address = %listener.local_addr(), "{service} listening");
    Ok(listener)
}

/// Opens the database at `url` and logs which backend it is (never the password).
pub async fn connect_database(url: &str, args: &ServiceArgs) -> anyhow::Result<Db> {
    let db = db::connect(url, args.database_max_connections).await?;
    tracing::info!(database = %db::redact_url(url), backend = db.backend_name(), "database connected");
    Ok(db)
}

/// Applies the migrations with `migrate`, unless `--skip-migrations` says something else does
/// (the future is then dropped without running).
pub async fn migrate_unless_skipped(
    args: &ServiceArgs,
    migrate: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    if args.skip_migrations {
        tracing::info!("migrations skipped");
    } else {
        migrate.await.context("cannot apply database migrations")?;
        tracing::info!("migrations applied");
    }
    Ok(())
}

/// Health reporting of a service being served: NOT_SERVING until the database answers, then
/// following it. Start it once migrations have run; [`Readiness::stop`] after serving.
pub struct Readiness {
    health: Health,
    checks: JoinHandle<()>,
    db: Db,
}

impl Readiness {
    /// Health for `services`, checked against `db` every `--health-check-interval`.
    pub fn start(services: &[&'static str], db: &Db, args: &ServiceArgs) -> Self {
        let (health, _) = Health::new(services);
        let checks =
            spawn_readiness(health.clone(), db.clone(), args.health_check_interval(), health.draining());
        Self { health, checks, db: db.clone() }
    }

    /// The health the server answers with.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// After the server has drained: health NOT_SERVING for good, the checks ended, the pools
    /// closed.
    pub async fn stop(self, service: &str) {
        self.health.start_draining();
        if let Err(err) = self.checks.await {
            tracing::warn!(error = %err, "readiness task ended abnormally");
        }
        self.db.close().await;
        tracing::info!("{service} stopped");
    }
}
