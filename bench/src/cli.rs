//! Command-line arguments.

use clap::{Args, Parser, Subcommand};

use crate::args::{Backend, BatchArgs, GrpcArgs, ServerArgs};

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
