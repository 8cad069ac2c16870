//! The registration-svc binary: parse the configuration, bind, serve until SIGINT or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use registration_svc::app::{self, Config};
use shared::clock::SystemClock;
use shared::server::Listener;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let _telemetry = shared::telemetry::init("registration-svc", config.service.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "registration-svc failed");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let listener =
        Listener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr(), "registration-svc listening");
    app::serve(config, listener, Arc::new(SystemClock), shared::server::shutdown_signal()).await
}
