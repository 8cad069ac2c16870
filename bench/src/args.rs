//! The arguments the subcommands share: the backend, the server to start, batch and h2load
//! settings.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::h2load::H2loadArgs;
use crate::rounds::RoundsArgs;

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
