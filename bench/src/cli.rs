//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::h2load::H2loadArgs;
use crate::rounds::RoundsArgs;

#[derive(Debug, Parser)]
#[command(name = "regserial-bench", version, about = "Benchmarks the release serial-svc binary")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// BatchCreateSerials throughput, one call at a time, and serial-svc resident memory.
    Batch(BatchCommand),
    /// GetSerial and ValidateSerial throughput under h2load, as a ratio to Health/Check.
    Grpc(GrpcCommand),
    /// Both benches on both backends, printed as one Markdown table.
    All(AllCommand),
    /// registration-svc against serial-svc: CreateRegistration vs ClaimSerial, Get/Lookup vs
    /// Health/Check, ListRegistrations at the first and the millionth row.
    Registration(crate::registration::args::RegistrationCommand),
    /// `registration` on SQLite then PostgreSQL, as one Markdown table.
    RegistrationAll(crate::registration::args::RegistrationAllCommand),
    /// 1,000,000 serials through `regserial import` against PostgreSQL's COPY of the same file,
    /// BatchCreateSerials for as many, and serial-svc's peak memory after 1M and 5M rows.
    Import(crate::import::ImportCommand),
    /// ValidateSerial with metrics and span export on (sampling 0.1, then every call) against
    /// the same binary with both off, alternately, each with its Health/Check.
    Telemetry(GrpcCommand),
}

#[derive(Debug, Args)]
pub struct BatchCommand {
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct GrpcCommand {
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    #[command(flatten)]
    pub grpc: GrpcArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct AllCommand {
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub grpc: GrpcArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The storage backend serial-svc runs on; each run gets a database of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// A file in a temporary directory.
    Sqlite,
    /// A new database `regserial_bench_<random>`, dropped at the end.
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// How many BatchCreateSerials calls to time.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub batches: u32,
    /// Serials per call (the API accepts 1..10,000).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
}

#[derive(Debug, Clone, Args)]
pub struct GrpcArgs {
    #[command(flatten)]
    pub h2load: H2loadArgs,
    #[command(flatten)]
    pub rounds: RoundsArgs,
    /// Serials created before the runs, so that lookups hit a table of realistic size.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub seed_serials: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The serial-svc binary (default: `serial-svc` next to this executable, the release build
    /// when run from target/release).
    #[arg(long)]
    pub serial_svc_bin: Option<PathBuf>,
    /// Administrative connection used to create and drop the PostgreSQL benchmark database.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres_url: String,
    /// The longest wait for serial-svc's health check to say SERVING.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub startup_timeout_secs: u64,
    /// RUST_LOG given to serial-svc: request logging is off by default so that the figures
    /// measure the service rather than its log output.
    #[arg(long, default_value = "warn")]
    pub server_rust_log: String,
}
