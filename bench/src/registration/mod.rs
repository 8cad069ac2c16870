//! `registration`: registration-svc next to the serial-svc it claims serials from, both release
//! binaries on fresh databases of one backend.
//!
//! 1. A million registrations are written straight into registration-svc's database
//!    ([`seed`]), so that every figure is taken against a table of that size.
//! 2. `CreateRegistration` with one line item against bare `ClaimSerial` on the same
//!    serial-svc, with the same closed-loop generator and concurrency ([`closed_loop`],
//!    [`workload`]), in rounds ([`crate::rounds`]): claims, then creations and claims again in
//!    every round.
//!    Before them, on PostgreSQL, creations one at a time with the database's own count of
//!    the commits and row writes each costs ([`writes`]).
//! 3. `GetRegistration` and `LookupRegistration` (by number, by serial) under h2load, against
//!    registration-svc's own `Health/Check`, in rounds the same way.
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
mod writes;

use anyhow::anyhow;
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
use crate::args::{Backend, ServerArgs};
use crate::fixtures;
use crate::h2load;
use crate::memory::{self, Resident};
use crate::rounds::{self, Compared, Rate};

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
    /// One more than the rounds: before the first and after every round.
    pub claims: Vec<LoopRun>,
    /// One per round, as are the reads.
    pub creates: Vec<LoopRun>,
    /// Commits and row writes per creation, one at a time (PostgreSQL only).
    pub writes: Option<writes::Writes>,
    /// One more than the rounds, around the reads.
    pub health: Vec<Measured>,
    pub gets: Vec<Measured>,
    pub lookups_by_number: Vec<Measured>,
    pub lookups_by_serial: Vec<Measured>,
    /// The first page, before and after each round of the deep page.
    pub list_first: Vec<Measured>,
    /// The page at the deep position, one per round.
    pub list_deep: Vec<Measured>,
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

impl Rate for LoopRun {
    fn rate(&self) -> f64 {
        self.summary.per_sec()
    }
}

impl Rate for Measured {
    fn rate(&self) -> f64 {
        self.summary.requests_per_sec
    }
}

impl RegistrationReport {
    pub fn create_compared(&self) -> Compared {
        Compared::of(&self.creates, &self.claims)
    }

    /// Reads `runs` (one per round) against Health/Check.
    pub fn read_compared(&self, runs: &[Measured]) -> Compared {
        Compared::of(runs, &self.health)
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
    eprintln!("{name}: creating {} pools of {pool_size} serials", 2 * args.rounds.rounds + 1);
    let rounds = args.rounds.rounds;
    let pool = || SerialPool::create(pair.serial.channel.clone(), &pair.token, pool_size);
    // Every pool before the first run, so that no run's figure carries the writes of the next.
    let mut claim_pools = Vec::new();
    let mut create_pools = Vec::new();
    for _ in 0..rounds {
        claim_pools.push(Arc::new(pool().await?));
        create_pools.push(Arc::new(pool().await?));
    }
    claim_pools.push(Arc::new(pool().await?));
    let target_pool = SerialPool::create(pair.serial.channel.clone(), &pair.token, 1).await?;
    let writes_pool = match backend {
        Backend::Postgres => {
            Some(SerialPool::create(pair.serial.channel.clone(), &pair.token, writes::CREATIONS).await?)
        }
        Backend::Sqlite => None,
    };
    for url in [&pair.serial_database_url, &pair.registration_database_url] {
        seed::settle(backend, url).await?;
    }
    let writes = match &writes_pool {
        Some(pool) => {
            eprintln!("{name}: {} creations one at a time, counted in pg_stat", writes::CREATIONS);
            let writes = writes::per_creation(&pair, pool).await?;
            let (commits, rows, tags) = (writes.commits, writes.rows, writes.tag_rows);
            eprintln!("{name}: per creation {commits:.2} commits, {rows:.2} row writes ({tags:.2} of tags)");
            Some(writes)
        }
        None => None,
    };

    let mut claim_pools = claim_pools.into_iter();
    let mut claims = Vec::new();
    let mut creates = Vec::new();
    let first_pool = claim_pools.next().expect("one claim pool more than the rounds");
    claims.push(loop_run(&pair, &args, loop_config, Workload::Claim, first_pool, "claim-0").await?);
    for (round, (create_pool, claim_pool)) in (1..).zip(create_pools.into_iter().zip(claim_pools)) {
        let name = format!("create-{round}");
        creates.push(loop_run(&pair, &args, loop_config, Workload::Create, create_pool, &name).await?);
        let name = format!("claim-{round}");
        claims.push(loop_run(&pair, &args, loop_config, Workload::Claim, claim_pool, &name).await?);
    }

    let target = create_target(&pair, target_pool).await?;
    let health = probes::health(&pair).await?;
    let get = probes::get(&pair, &target).await?;
    let by_number =
        probes::lookup(&pair, Key::RegistrationNumber(target.registration_number.clone()), &target);
    let by_number = by_number.await?;
    let serial = target.line_items[0].serial_number.clone();
    let by_serial = probes::lookup(&pair, Key::SerialNumber(serial), &target).await?;
    let run = |probe, name: String| {
        let (pair, args) = (&pair, &args);
        async move { probes::load(pair, args, probe, &name).await }
    };
    let reads =
        [(&get, "get-registration"), (&by_number, "lookup-by-number"), (&by_serial, "lookup-by-serial")];
    let (health_runs, reads) = rounds::alternate(rounds, run, (&health, "health"), &reads).await?;
    let [gets, lookups_by_number, lookups_by_serial] =
        <[Vec<Measured>; 3]>::try_from(reads).map_err(|_| anyhow!("three reads"))?;

    let deep_position = seeded.saturating_sub(LIST_PAGE as u64);
    eprintln!("{name}: walking ListRegistrations past {deep_position} rows for a deep page token");
    let walk = walk::past(&pair, deep_position).await?;
    eprintln!("{name}: walked {} rows in {:.1?}", walk.rows, walk.elapsed);
    let first_page = probes::list(&pair, LIST_PAGE, "").await?;
    let deep_page = probes::list(&pair, LIST_PAGE, &walk.token).await?;
    let deep = [(&deep_page, "list-deep-page")];
    let (list_first, deep) = rounds::alternate(rounds, run, (&first_page, "list-first-page"), &deep).await?;
    let [list_deep] = <[Vec<Measured>; 1]>::try_from(deep).map_err(|_| anyhow!("one deep page"))?;
    let after = memory::read(pair.registration.pid)?;
    Ok(RegistrationReport {
        backend,
        args,
        h2load_version,
        seeded,
        seed_time,
        claims,
        creates,
        writes,
        health: health_runs,
        gets,
        lookups_by_number,
        lookups_by_serial,
        list_first,
        list_deep,
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

/// The loops the benchmark measures: ClaimSerial against serial-svc, CreateRegistration
/// against registration-svc.
#[derive(Clone, Copy)]
enum Workload {
    Claim,
    Create,
}

/// One measured loop of `kind` over fresh connections, taking its serials from `pool`.
async fn loop_run(
    pair: &Pair,
    args: &RegistrationArgs,
    config: LoopConfig,
    kind: Workload,
    pool: Arc<SerialPool>,
    name: &str,
) -> anyhow::Result<LoopRun> {
    let addr = match kind {
        Workload::Claim => pair.serial.addr,
        Workload::Create => pair.registration.addr,
    };
    let channels = workload::connections(addr, args.connections).await?;
    let bearer = workload::bearer(&pair.token)?;
    match kind {
        Workload::Claim => measured_loop(pair, config, workload::claim(&channels, bearer, pool), name).await,
        Workload::Create => {
            measured_loop(pair, config, workload::create(&channels, bearer, pool), name).await
        }
    }
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
