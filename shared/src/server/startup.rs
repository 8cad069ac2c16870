//! The steps every service takes around its own wiring, in the same order: bind and say where,
//! open the database and say which, serve at once while the migrations are applied (waiting for
//! a database that cannot be reached yet), then report readiness, and on the way out drain,
//! stop the readiness checks and close the pools. Each service's `app::serve` keeps only what
//! is its own (the store, background tasks, the gRPC services), so the order of the common
//! steps cannot drift between them.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use tonic::transport::Server;

use super::{Gate, Health, Layers, Limits, Listener, ServerBuilder, ServiceArgs, spawn_readiness};
use crate::auth::Authenticator;
use crate::db::{self, Db};
use crate::paging::PageTokens;

/// A service binary's `main`: the process's allocator, then `Config` (a clap parser with a
/// `service: ServiceArgs`) parsed and `$run(config)` served through [`run_service`].
#[macro_export]
macro_rules! service_main {
    ($name:expr, $config:ty, $run:path) => {
        #[global_allocator]
        static ALLOCATOR: $crate::Allocator = $crate::Allocator;

        #[tokio::main]
        async fn main() -> std::process::ExitCode {
            $crate::allocator::configure();
            let config = <$config as clap::Parser>::parse();
            $crate::server::run_service($name, config.service.log_format, $run(config)).await
        }
    };
}

/// A service binary's whole life: telemetry started (its log lines in `format`), `run` to the
/// end, a failure logged with its whole chain, and the last spans flushed before the exit code
/// is returned.
pub async fn run_service(
    service: &'static str,
    format: crate::telemetry::LogFormat,
    run: impl Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    // Held until the server has drained: dropping it then flushes the last spans.
    let _telemetry = match crate::telemetry::init(service, format) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("{service}: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    match run.await {
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

/// Opens the database at `url` (PostgreSQL connects on first use) and logs which backend it is
/// (never the password).
pub async fn connect_database(url: &str, args: &ServiceArgs) -> anyhow::Result<Db> {
    let db = db::connect(url, args.database_max_connections).await?;
    tracing::info!(database = %db::redact_url(url), backend = db.backend_name(), "database opened");
    Ok(db)
}

/// The longest wait between two tries of a database that cannot be reached at startup.
pub const STARTUP_RETRY_MAX: Duration = Duration::from_secs(5);

/// A service from the moment it is bound until it has drained: the server answers at once
/// (health NOT_SERVING, its own services behind a closed [`Gate`]) while the migrations are
/// applied, tried again for as long as the database cannot be reached (a service started
/// before its database, as in a rollout, waits instead of exiting); then the gate opens and
/// health follows the database. A migration that fails otherwise (bad credentials, no such
/// database, a migration the database refuses) stops the server and is the service's error.
pub struct Startup {
    health: Health,
    gate: Gate,
    db: Db,
    /// The service's background work, started once the gate opens, stopped after the drain.
    background: Vec<JoinHandle<()>>,
}

/// What a service sets up from its flags before its own wiring, in the order every service
/// takes: the authenticator, the limits, the tonic server, the page tokens, the database, and the
/// [`Startup`] around it.
pub struct Prepared {
    pub authenticator: Authenticator,
    pub limits: Limits,
    /// Its TLS files already read, so that a bad one stops the service before anything starts.
    pub server: Server<Layers>,
    pub tokens: PageTokens,
    pub db: Db,
    pub startup: Startup,
}

impl Startup {
    /// Health for `services`, NOT_SERVING, and a closed gate answering for `domain`.
    pub fn new(services: &[&'static str], domain: &'static str, db: &Db) -> Self {
        let (health, _) = Health::new(services);
        Self { health, gate: Gate::closed(domain), db: db.clone(), background: Vec::new() }
    }

    /// The common setup from `args` (already validated) of a service reporting the health of
    /// `services`, its errors in `domain`, on the database at `database_url`.
    pub async fn prepare(
        args: &ServiceArgs,
        database_url: &str,
        services: &[&'static str],
        domain: &'static str,
    ) -> anyhow::Result<Prepared> {
        let authenticator = args.auth.authenticator(domain).await?;
        let limits = Limits::new(&args.limits, domain)?;
        // TLS files are read before anything else starts, so that a bad one stops the service at once.
        let server = args.tls.apply(limits.server())?;
        let tokens = PageTokens::new(&args.page_token_key()?);
        let db = connect_database(database_url, args).await?;
        let startup = Startup::new(services, domain, &db);
        Ok(Prepared { authenticator, limits, server, tokens, db, startup })
    }

    /// `server` with health, reflection of `descriptor_sets`, and the services added from now on
    /// behind the gate and within `limits`.
    pub fn builder(
        &self,
        server: Server<Layers>,
        limits: &Limits,
        descriptor_sets: &[&'static [u8]],
    ) -> anyhow::Result<ServerBuilder> {
        Ok(ServerBuilder::with_server(server, self.health(), descriptor_sets)?
            .behind(self.gate())
            .limited(limits))
    }

    /// The health the server answers with.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// The gate to put the service's own gRPC services behind ([`ServerBuilder::behind`]).
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Runs `work` (a worker, a purge) once the migrations have run (never, if they fail),
    /// until the server has drained. Stopping it then must be safe at any await point.
    pub fn spawn_when_ready(&mut self, work: impl Future<Output = ()> + Send + 'static) {
        let ready = self.gate.until_open();
        self.background.push(tokio::spawn(async move {
            ready.await;
            work.await;
        }));
    }

    /// Serves `server` on `listener` until `shutdown` resolves, applying the migrations with
    /// `migrate` (unless `--skip-migrations`) meanwhile, and the metrics endpoint when
    /// `--metrics-listen` is set; then drains, stops the readiness checks and the background
    /// work, closes the pools and stops the metrics endpoint.
    pub async fn serve<F, M>(
        self,
        service: &'static str,
        server: ServerBuilder,
        listener: Listener,
        shutdown: impl Future<Output = ()> + Send + 'static,
        args: &ServiceArgs,
        migrate: M,
    ) -> anyhow::Result<()>
    where
        M: FnMut() -> F + Send + 'static,
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let metrics = super::metrics_task::start(service, args, &self.db).await?;
        let probes = match args.health_listen {
            Some(addr) => Some(super::HealthListener::start(addr, &self.health, &args.health_bound).await?),
            None => None,
        };
        let draining = self.health.draining();
        let failed = CancellationToken::new();
        let checks: JoinHandle<anyhow::Result<()>> = {
            let (health, db, gate) = (self.health.clone(), self.db.clone(), self.gate.clone());
            let (skip, interval, on_failure) =
                (args.skip_migrations, args.health_check_interval(), failed.clone());
            tokio::spawn(async move {
                // A failed preparation (an error, or a panic unwinding) stops the server.
                let on_failure = on_failure.drop_guard();
                prepare(migrate, skip, draining.clone(), gate).await?;
                on_failure.disarm();
                if let Err(err) = spawn_readiness(health, db, interval, draining).await {
                    tracing::warn!(error = %err, "readiness task ended abnormally");
                }
                Ok(())
            })
        };
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                () = failed.cancelled() => {}
            }
        };
        let served = server.serve(listener, stop, args.shutdown_grace).await;
        // Health NOT_SERVING for good (already, unless the server itself failed): the startup
        // and readiness tasks end.
        self.health.start_draining();
        let prepared = checks.await.unwrap_or_else(|panicked| Err(panicked.into()));
        for work in &self.background {
            work.abort();
        }
        self.db.close().await;
        if let Some(metrics) = metrics {
            metrics.stop().await;
        }
        if let Some(probes) = probes {
            probes.stop().await;
        }
        prepared.context("cannot apply database migrations")?;
        tracing::info!("{service} stopped");
        served
    }
}

/// Applies the migrations with `migrate`, unless `skip`, retrying (with a growing pause, logged)
/// while the database cannot be reached, until it is done or `draining` is cancelled; then
/// opens `gate`.
async fn prepare<F, M>(
    mut migrate: M,
    skip: bool,
    draining: CancellationToken,
    gate: Gate,
) -> anyhow::Result<()>
where
    M: FnMut() -> F,
    F: Future<Output = anyhow::Result<()>>,
{
    if skip {
        tracing::info!("migrations skipped");
    } else {
        let mut pause = Duration::from_millis(100);
        loop {
            let err = match migrate().await {
                Ok(()) => break,
                Err(err) if unreachable(&err) => err,
                Err(err) => return Err(err),
            };
            tracing::warn!(
                error = format!("{err:#}"),
                retry_in_ms = pause.as_millis(),
                "database not ready, migrations wait"
            );
            tokio::select! {
                () = draining.cancelled() => return Ok(()),
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(STARTUP_RETRY_MAX);
        }
        tracing::info!("migrations applied");
    }
    gate.open();
    Ok(())
}

/// Whether `err` (a migration's) means the database could not be reached, rather than refused.
fn unreachable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.downcast_ref::<sqlx::Error>().is_some_and(db::is_unavailable))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::FutureExt;

    use super::*;

    /// A migration that cannot reach its database `unreachable` times, then ends with `last`.
    fn migration(
        unreachable: usize,
        last: fn() -> anyhow::Result<()>,
    ) -> (Arc<AtomicUsize>, impl FnMut() -> futures::future::Ready<anyhow::Result<()>>) {
        let tries = Arc::new(AtomicUsize::new(0));
        let counted = tries.clone();
        let migrate = move || {
            let outcome = if counted.fetch_add(1, Ordering::SeqCst) < unreachable {
                Err(anyhow::Error::new(sqlx::Error::PoolTimedOut).context("cannot migrate"))
            } else {
                last()
            };
            futures::future::ready(outcome)
        };
        (tries, migrate)
    }

    #[tokio::test]
    async fn an_unreachable_database_is_waited_for_then_the_gate_opens() {
        let gate = Gate::closed("test");
        let (tries, migrate) = migration(2, || Ok(()));
        prepare(migrate, false, CancellationToken::new(), gate.clone()).await.unwrap();
        assert_eq!(tries.load(Ordering::SeqCst), 3);
        assert!(gate.is_open() && gate.until_open().now_or_never().is_some());
    }

    #[tokio::test]
    async fn a_refused_migration_fails_at_once_and_the_gate_stays_closed() {
        let gate = Gate::closed("test");
        let (tries, migrate) = migration(1, || Err(anyhow::anyhow!("relation \"serials\" already exists")));
        let err = prepare(migrate, false, CancellationToken::new(), gate.clone()).await.unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err:#}");
        assert_eq!(tries.load(Ordering::SeqCst), 2);
        assert!(!gate.is_open() && gate.until_open().now_or_never().is_none());
    }

    #[tokio::test]
    async fn draining_ends_the_wait_without_opening_the_gate() {
        let (gate, draining) = (Gate::closed("test"), CancellationToken::new());
        let (_, migrate) = migration(usize::MAX, || Ok(()));
        let waiting = tokio::spawn(prepare(migrate, false, draining.clone(), gate.clone()));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!waiting.is_finished());
        draining.cancel();
        waiting.await.unwrap().unwrap();
        assert!(!gate.is_open() && gate.until_open().now_or_never().is_none());
    }

    #[tokio::test]
    async fn skipped_migrations_open_the_gate_at_once() {
        let gate = Gate::closed("test");
        let (tries, migrate) = migration(0, || Ok(()));
        prepare(migrate, true, CancellationToken::new(), gate.clone()).await.unwrap();
        assert_eq!(tries.load(Ordering::SeqCst), 0);
        assert!(gate.is_open() && gate.until_open().now_or_never().is_some());
    }
}
