//! `regserial`, the operator tool: `up` runs the services in one process on embedded SQLite
//! with a development token, `token` mints a JWT.

mod banner;
mod health;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("regserial: {err:#}");
            ExitCode::FAILURE
        }
    }
}
