//! `registration`: registration-svc next to the serial-svc it claims serials from, both release
//! binaries on fresh databases of one backend.
//!
//! 1. A million registrations are written straight into registration-svc's database
//!    ([`seed`]), so that every figure is taken against a table of that size.
//! 2. `CreateRegistration` with one line item against bare `ClaimSerial` on the same
//!    serial-svc, with the same closed-loop generator and concurrency ([`closed_loop`],
//!    [`workload`]): claims first and last, their mean is the reference.
//! 3. `GetRegistration` and `LookupRegistration` (by number, by serial) under h2load, against
//!    registration-svc's own `Health/Check`, run first and last.
//! 4. `ListRegistrations` pages of 50: the first page, and the page at the millionth row
//!    ([`walk`]).

pub mod args;
mod closed_loop;
mod cpu;
mod pair;
mod probes;
pub mod report;
mod seed;
mod walk;
mod workload;

use std::sync::Arc;
use std::time::Duration;

use regserial::registration::v1::Registration;
use regserial::registration::v1::lookup_registration_request::Key;

use self::args::RegistrationArgs;
use self::closed_loop::{LoopConfig, LoopSummary};
use self::cpu::Usage;
use self::pair::Pair;
use self::probes::Measured;
use self::walk::Walk;
use self::workload::SerialPool;
use crate::cli::{Backend, ServerArgs};
use crate::fixtures;
use crate::h2load;
use crate::memory::{self, Resident};

/// Rows in a `ListRegistrations` page of the list benchmark.
pub const LIST_PAGE: i32 = 50;
/// Serials for the probe that sizes the pools, and its length.
const PROBE_SERIALS: u64 = 40_000;
const PROBE: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct RegistrationReport {
    pub backend: Backend,
    pub args: RegistrationArgs,
    pub h2load_version: String,
    pub seeded: u64,
    pub seed_time: Duration,
    pub claim_first: LoopRun,
    pub create: LoopRun,
    pub claim_last: LoopRun,
    pub health_first: Measured,
    pub get: Measured,
    pub lookup_number: Measured,
    pub lookup_serial: Measured,
    pub list_first: Measured,
    pub list_deep: Measured,
    pub health_last: Measured,
    pub walk: Walk,
    /// registration-svc right after startup, and at the end (`peak`: the whole run's).
    pub idle: Resident,
    pub after: Resident,
}

/// A closed-loop run and where the CPU went meanwhile.
#[derive(Debug)]
pub struct LoopRun {
    pub summary: LoopSummary,
    pub cpu: Usage,
}

impl RegistrationReport {
    pub fn claim_mean(&self) -> f64 {
        (self.claim_first.summary.per_sec() + self.claim_last.summary.per_sec()) / 2.0
    }

    pub fn health_mean(&self) -> f64 {
        (self.health_first.summary.requests_per_sec + self.health_last.summary.requests_per_sec) / 2.0
    }
}

pub async fn run(
    server: &ServerArgs,
    backend: Backend,
    args: &RegistrationArgs,
) -> anyhow::Result<RegistrationReport> {
    let h2load_version = h2load::ensure_installed(&args.h2load.h2load_bin).await?;
    let args = args.clone();
    let setup = args.clone();
    pair::with_pair(server, &setup, backend, |pair| measure(pair, backend, args, h2load_version)).await
}

async fn measure(
    pair: Pair,
    backend: Backend,
    args: RegistrationArgs,
    h2load_version: String,
) -> anyhow::Result<RegistrationReport> {
    let name = backend.name();
    let idle = memory::read(pair.registration.pid)?;
    fixtures::create_catalog(pair.serial.channel.clone(), &pair.token).await?;
    let seeded = args.seed_registrations;
    eprintln!("{name}: seeding {seeded} registrations into registration-svc's database");
    let seed_time = seed::registrations(backend, &pair.registration_database_url, seeded).await?;
    eprintln!("{name}: seeded {seeded} registrations in {seed_time:.1?}");

    let loop_config = LoopConfig {
        concurrency: args.concurrency,
        warm_up: Duration::from_secs(args.loop_warm_up_secs),
        duration: Duration::from_secs(args.loop_secs),
    };
    let pool_size = size_pools(&pair, &args).await?;
    eprintln!("{name}: creating 3 pools of {pool_size} serials");
    let pool = || SerialPool::create(pair.serial.channel.clone(), &pair.token, pool_size);
    let claim_first_pool = Arc::new(pool().await?);
    let create_pool = Arc::new(pool().await?);
    let claim_last_pool = Arc::new(pool().await?);
    let target_pool = SerialPool::create(pair.serial.channel.clone(), &pair.token, 1).await?;
    for url in [&pair.serial_database_url, &pair.registration_database_url] {
        seed::settle(backend, url).await?;
    }

    let claim_first = claim_run(&pair, &args, loop_config, claim_first_pool, "claim-first").await?;
    let create = create_run(&pair, &args, loop_config, create_pool).await?;
    let claim_last = claim_run(&pair, &args, loop_config, claim_last_pool, "claim-last").await?;

    let target = create_target(&pair, target_pool).await?;
    let health = probes::health(&pair).await?;
    let get = probes::get(&pair, &target).await?;
    let by_number =
        probes::lookup(&pair, Key::RegistrationNumber(target.registration_number.clone()), &target);
    let by_number = by_number.await?;
    let serial = target.line_items[0].serial_number.clone();
    let by_serial = probes::lookup(&pair, Key::SerialNumber(serial), &target).await?;
    let health_first = probes::load(&pair, &args, &health, "health-first").await?;
    let get = probes::load(&pair, &args, &get, "get-registration").await?;
    let lookup_number = probes::load(&pair, &args, &by_number, "lookup-by-number").await?;
    let lookup_serial = probes::load(&pair, &args, &by_serial, "lookup-by-serial").await?;

    let deep_position = seeded.saturating_sub(LIST_PAGE as u64);
    eprintln!("{name}: walking ListRegistrations past {deep_position} rows for a deep page token");
    let walk = walk::past(&pair, deep_position).await?;
    eprintln!("{name}: walked {} rows in {:.1?}", walk.rows, walk.elapsed);
    let first_page = probes::list(&pair, LIST_PAGE, "").await?;
    let deep_page = probes::list(&pair, LIST_PAGE, &walk.token).await?;
    let list_first = probes::load(&pair, &args, &first_page, "list-first-page").await?;
    let list_deep = probes::load(&pair, &args, &deep_page, "list-deep-page").await?;
    let health_last = probes::load(&pair, &args, &health, "health-last").await?;
    let after = memory::read(pair.registration.pid)?;
    Ok(RegistrationReport {
        backend,
        args,
        h2load_version,
        seeded,
        seed_time,
        claim_first,
        create,
        claim_last,
        health_first,
        get,
        lookup_number,
        lookup_serial,
        list_first,
        list_deep,
        health_last,
        walk,
        idle,
        after,
    })
}

/// How many serials one closed-loop run needs: twice what a short probe of claims would use
/// over the warm-up and the window, so that a server warming up does not run out.
async fn size_pools(pair: &Pair, args: &RegistrationArgs) -> anyhow::Result<u64> {
    let pool = Arc::new(SerialPool::create(pair.serial.channel.clone(), &pair.token, PROBE_SERIALS).await?);
    let config = LoopConfig { concurrency: args.concurrency, warm_up: Duration::ZERO, duration: PROBE };
    let channels = workload::connections(pair.serial.addr, args.connections).await?;
    let call = workload::claim(&channels, workload::bearer(&pair.token)?, pool);
    let probe = closed_loop::run(config, call).await?;
    let seconds = (args.loop_warm_up_secs + args.loop_secs) as f64;
    eprintln!("probe: {:.0} ClaimSerial/s", probe.per_sec());
    Ok((probe.per_sec() * seconds * 2.0).ceil() as u64 + 2_000)
}

async fn claim_run(
    pair: &Pair,
    args: &RegistrationArgs,
    config: LoopConfig,
    pool: Arc<SerialPool>,
    name: &str,
) -> anyhow::Result<LoopRun> {
    let channels = workload::connections(pair.serial.addr, args.connections).await?;
    let call = workload::claim(&channels, workload::bearer(&pair.token)?, pool);
    measured_loop(pair, config, call, name).await
}

async fn create_run(
    pair: &Pair,
    args: &RegistrationArgs,
    config: LoopConfig,
    pool: Arc<SerialPool>,
) -> anyhow::Result<LoopRun> {
    let channels = workload::connections(pair.registration.addr, args.connections).await?;
    let call = workload::create(&channels, workload::bearer(&pair.token)?, pool);
    measured_loop(pair, config, call, "create").await
}

async fn measured_loop<F, Fut>(
    pair: &Pair,
    config: LoopConfig,
    call: F,
    name: &str,
) -> anyhow::Result<LoopRun>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    eprintln!(
        "{name}: {:?} (+{:?} warm-up), {} calls in flight",
        config.duration, config.warm_up, config.concurrency
    );
    let before = pair.cpu_sample()?;
    let summary = closed_loop::run(config, call).await?;
    let cpu = pair.cpu_sample()?.usage_since(&before);
    eprintln!(
        "{name}: {:.0} calls/s, p50 {:.1?}, p99 {:.1?}",
        summary.per_sec(),
        summary.latency(0.5),
        summary.latency(0.99)
    );
    Ok(LoopRun { summary, cpu })
}

/// The registration the read benchmarks get and look up.
async fn create_target(pair: &Pair, pool: SerialPool) -> anyhow::Result<Registration> {
    let mut client = regserial::client::registration_service(pair.registration.channel.clone());
    let request = workload::new_registration(u64::MAX, pool.serial(0)?);
    workload::create_registration(&mut client, &workload::bearer(&pair.token)?, request).await
}

/// `registration-all`: both backends, one table.
pub async fn run_all(command: &args::RegistrationAllCommand) -> anyhow::Result<()> {
    let h2load_version = h2load::ensure_installed(&command.registration.h2load.h2load_bin).await?;
    let mut rows = Vec::new();
    for backend in Backend::ALL {
        rows.extend(report::rows(&run(&command.server, backend, &command.registration).await?));
    }
    crate::report::print(&rows, &report::notes(&command.server.server_rust_log, &h2load_version));
    Ok(())
}
