//! Flags of `registration` and `registration-all`.

use std::path::PathBuf;

use clap::Args;

use crate::args::{Backend, ServerArgs};
use crate::h2load::H2loadArgs;
use crate::rounds::RoundsArgs;

#[derive(Debug, Args)]
pub struct RegistrationCommand {
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    #[command(flatten)]
    pub registration: RegistrationArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct RegistrationAllCommand {
    #[command(flatten)]
    pub registration: RegistrationArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RegistrationArgs {
    /// The registration-svc binary (default: `registration-svc` next to this executable).
    #[arg(long)]
    pub registration_svc_bin: Option<PathBuf>,
    /// Registrations written straight into registration-svc's database before the runs, so that
    /// every call meets a table of that size and a list page can sit at the millionth row.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=10_000_000))]
    pub seed_registrations: u64,
    /// Measured seconds of each closed-loop run (ClaimSerial, CreateRegistration).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub loop_secs: u64,
    /// Unmeasured seconds before each closed-loop run's measurement.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    pub loop_warm_up_secs: u64,
    /// Calls in flight at once in the closed-loop runs, each task calling back to back.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// HTTP/2 connections the closed-loop tasks share.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub connections: u32,
    #[command(flatten)]
    pub h2load: H2loadArgs,
    #[command(flatten)]
    pub rounds: RoundsArgs,
}
