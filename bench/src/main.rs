//! regserial-bench: starts the release `serial-svc` binary on a fresh database and measures it.
//!
//! `batch` times `BatchCreateSerials`, `grpc` drives unary calls with h2load and compares them with
//! the same server's health check, `all` runs both on SQLite and PostgreSQL and prints the
//! Markdown table that goes in the README; `import` times `regserial import` against
//! PostgreSQL's own COPY of the same file. Figures are printed, never asserted: the bench fails
//! only when a call fails.

mod all;
mod args;
mod batch;
mod cli;
mod command_line;
mod database;
mod fixtures;
mod grpc;
mod grpc_frame;
mod h2load;
mod harness;
mod import;
mod memory;
mod registration;
mod report;
mod rounds;
mod rpc;
mod server;
mod telemetry;
mod token;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("regserial-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Batch(args) => {
            let report = batch::run(&args.server, args.backend, &args.batch).await?;
            report::print(&report::batch_rows(&report), &report::notes(&args.server.server_rust_log, None));
        }
        Command::Grpc(args) => {
            let report = grpc::run(&args.server, args.backend, &args.grpc).await?;
            let notes = report::notes(&args.server.server_rust_log, Some(&report.h2load_version));
            report::print(&report::grpc_rows(&report), &notes);
        }
        Command::All(args) => all::run(&args).await?,
        Command::Registration(args) => {
            let report = registration::run(&args.server, args.backend, &args.registration).await?;
            let notes = registration::report::notes(&args.server.server_rust_log, &report.h2load_version);
            report::print(&registration::report::rows(&report), &notes);
        }
        Command::RegistrationAll(args) => registration::run_all(&args).await?,
        Command::Import(args) => import::run(&args).await?,
        Command::Telemetry(args) => telemetry::run(&args).await?,
    }
    Ok(())
}
