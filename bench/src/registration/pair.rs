//! One registration run: serial-svc and registration-svc as children, each on a fresh database of
//! the same backend, sharing a random HS256 secret; both stopped and both databases removed
//! whatever the outcome (errors and Ctrl-C included).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use tonic::transport::Channel;

use super::args::RegistrationArgs;
use super::cpu;
use crate::args::{Backend, ServerArgs};
use crate::database::FreshDatabase;
use crate::server::{self, RunningServer, ServerConfig};
use crate::token;

/// The service whose health the bench waits for, in registration-svc.
pub const REGISTRATION_SERVICE: &str = "regserial.registration.v1.RegistrationService";

/// A running service and the means to call it.
#[derive(Clone)]
pub struct Service {
    pub addr: SocketAddr,
    pub pid: u32,
    pub channel: Channel,
}

/// What the benchmark body gets.
#[derive(Clone)]
pub struct Pair {
    pub serial: Service,
    pub registration: Service,
    /// serial-svc's `--database-url`.
    pub serial_database_url: String,
    /// registration-svc's `--database-url`, for seeding.
    pub registration_database_url: String,
    /// The names of both PostgreSQL databases (none on SQLite), to account for their CPU.
    pub postgres_databases: Vec<String>,
    pub token: String,
    /// A temporary directory removed after the run.
    pub work_dir: PathBuf,
}

/// Runs `body` against a fresh serial-svc and registration-svc on `backend`.
pub async fn with_pair<T, F, Fut>(
    server: &ServerArgs,
    args: &RegistrationArgs,
    backend: Backend,
    body: F,
) -> anyhow::Result<T>
where
    F: FnOnce(Pair) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let serial_bin = server::resolve_bin(server.serial_svc_bin.as_deref(), "serial-svc")?;
    let registration_bin = server::resolve_bin(args.registration_svc_bin.as_deref(), "registration-svc")?;
    let work = tempfile::Builder::new()
        .prefix("regserial-bench-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    // One directory each: FreshDatabase names its SQLite file the same for every service.
    let dirs = [work.path().join("serial"), work.path().join("registration")];
    for dir in &dirs {
        std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let serial_db = FreshDatabase::create(backend, &server.postgres_url, &dirs[0]).await?;
    let registration_db = match FreshDatabase::create(backend, &server.postgres_url, &dirs[1]).await {
        Ok(database) => database,
        Err(error) => {
            serial_db.remove().await.ok();
            return Err(error);
        }
    };
    eprintln!("{}: starting serial-svc and registration-svc on fresh databases", backend.name());
    let bins = Bins { serial: &serial_bin, registration: &registration_bin };
    let outcome = tokio::select! {
        outcome = run_on(bins, server, [&serial_db, &registration_db], work.path(), body) => outcome,
        () = crate::harness::interrupted() => Err(anyhow!("interrupted")),
    };
    let mut outcome = outcome;
    for database in [registration_db, serial_db] {
        if let Err(error) = database.remove().await {
            match outcome {
                Ok(_) => outcome = Err(error),
                Err(_) => eprintln!("regserial-bench: also failed to clean up: {error:#}"),
            }
        }
    }
    outcome
}

struct Bins<'a> {
    serial: &'a Path,
    registration: &'a Path,
}

async fn run_on<T, F, Fut>(
    bins: Bins<'_>,
    server: &ServerArgs,
    [serial_db, registration_db]: [&FreshDatabase; 2],
    work_dir: &Path,
    body: F,
) -> anyhow::Result<T>
where
    F: FnOnce(Pair) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let secret = token::random_secret();
    let token = token::mint(&secret)?;
    let startup_timeout = Duration::from_secs(server.startup_timeout_secs);
    let mut serial = RunningServer::start(ServerConfig {
        bin: bins.serial,
        health_service: server::SERIAL_SERVICE,
        extra_args: &[],
        env: &[],
        database_url: serial_db.url(),
        jwt_secret: &secret,
        rust_log: &server.server_rust_log,
        log_path: work_dir.join("serial-svc.log"),
        startup_timeout,
    })
    .await?;
    let serial_endpoint = ["--serial-endpoint".to_owned(), format!("http://{}", serial.addr())];
    let registration = RunningServer::start(ServerConfig {
        bin: bins.registration,
        health_service: REGISTRATION_SERVICE,
        extra_args: &serial_endpoint,
        env: &[],
        database_url: registration_db.url(),
        jwt_secret: &secret,
        rust_log: &server.server_rust_log,
        log_path: work_dir.join("registration-svc.log"),
        startup_timeout,
    })
    .await;
    let mut registration = match registration {
        Ok(registration) => registration,
        Err(error) => {
            serial.stop().await;
            return Err(error);
        }
    };
    let pair = Pair {
        serial: Service { addr: serial.addr(), pid: serial.pid(), channel: serial.channel() },
        registration: Service {
            addr: registration.addr(),
            pid: registration.pid(),
            channel: registration.channel(),
        },
        serial_database_url: serial_db.url().to_owned(),
        registration_database_url: registration_db.url().to_owned(),
        postgres_databases: [serial_db.url(), registration_db.url()]
            .into_iter()
            .filter_map(postgres_database_name)
            .collect(),
        token,
        work_dir: work_dir.to_path_buf(),
    };
    let outcome = body(pair).await.and_then(|value| {
        registration.ensure_running()?;
        serial.ensure_running()?;
        Ok(value)
    });
    if outcome.is_err() {
        registration.print_log_tail();
        serial.print_log_tail();
    }
    registration.stop().await;
    serial.stop().await;
    outcome
}

impl Pair {
    /// CPU times of registration-svc, serial-svc and the bench (in that order), and of the
    /// PostgreSQL backends of both databases.
    pub fn cpu_sample(&self) -> anyhow::Result<cpu::Sample> {
        cpu::sample(&[self.registration.pid, self.serial.pid, std::process::id()], &self.postgres_databases)
    }
}

/// The database named by a `postgres://…/<name>[?…]` url.
fn postgres_database_name(url: &str) -> Option<String> {
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"))?;
    let path = rest.split('?').next()?;
    let (_, name) = path.split_once('/')?;
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_the_path_of_a_postgres_url() {
        assert_eq!(
            postgres_database_name("postgres://u@h:5432/bench_1?sslmode=disable").as_deref(),
            Some("bench_1")
        );
        assert_eq!(postgres_database_name("postgres://u@h:5432"), None);
        assert_eq!(postgres_database_name("sqlite:///tmp/x/serial-svc.db"), None);
    }
}
