//! `regserial`, the operator tool: `up` runs the services in one process on embedded SQLite
//! with a development token, `token` mints a JWT, `import` uploads a CSV file of serials and
//! `export` writes them back out.

mod banner;
mod export;
mod health;
mod import;
mod remote;
mod supervisor;
mod token;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "regserial", version, about = "regserial operator tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the services in this process on embedded SQLite, for development.
    Up(up::UpArgs),
    /// Print a signed JWT for an organization and scopes.
    Token(token::TokenArgs),
    /// Import a CSV file of serials (resumable: the same command continues an interrupted one).
    Import(import::ImportArgs),
    /// Write the org's serials as CSV with the import's header.
    Export(export::ExportArgs),
}

#[global_allocator]
static ALLOCATOR: shared::Allocator = shared::Allocator;

#[tokio::main]
async fn main() -> ExitCode {
    shared::allocator::configure();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Token(args) => token::run(&args),
        Command::Import(args) => match import::run(args).await {
            // The job ended but did not succeed: the summary says why.
            Ok(false) => return ExitCode::from(2),
            other => other.map(drop),
        },
        Command::Export(args) => export::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("regserial: {err:#}");
            ExitCode::FAILURE
        }
    }
}
