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
    shared::server::run_service(NAME, config.service.log_format, run(config)).await
}

async fn run(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let listener = shared::server::bind(NAME, config.listen).await?;
    app::serve(config, listener, Arc::new(SystemClock), shared::server::shutdown_signal()).await
}
