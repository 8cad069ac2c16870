//! The registration-svc binary: parse the configuration, bind, serve until SIGINT or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use registration_svc::app::{self, Config};
use shared::clock::SystemClock;

const NAME: &str = "registration-svc";

#[global_allocator]
static ALLOCATOR: shared::Allocator = shared::Allocator;

#[tokio::main]
async fn main() -> ExitCode {
    shared::allocator::configure();
    let config = Config::parse();
    // Held until the server has drained: dropping it then flushes the last spans.
    let telemetry = match shared::telemetry::init(NAME, config.service.log_format) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("{NAME}: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let code = shared::server::exit_code(NAME, run(config).await);
    drop(telemetry);
    code
}

async fn run(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let listener = shared::server::bind(NAME, config.listen).await?;
    app::serve(config, listener, Arc::new(SystemClock), shared::server::shutdown_signal()).await
}
