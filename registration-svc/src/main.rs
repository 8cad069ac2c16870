//! The registration-svc binary: parse the configuration, bind, serve until SIGINT or SIGTERM.

use std::sync::Arc;

use registration_svc::app::{self, Config};
use shared::clock::SystemClock;

const NAME: &str = "registration-svc";

shared::service_main!(NAME, Config, run);

async fn run(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let listener = shared::server::bind(NAME, config.listen).await?;
    app::serve(config, listener, Arc::new(SystemClock), shared::server::shutdown_signal()).await
}
