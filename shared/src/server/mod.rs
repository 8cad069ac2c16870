//! Server bootstrap shared by both services: the tonic server settings, health (NOT_SERVING
//! until the database answers, and again while draining), reflection v1 and v1alpha, binding
//! before serving, and an ordered, bounded shutdown; the startup steps every service takes in
//! the same order (`startup`).
//!
//! ```ignore
//! let (health, _) = Health::new(&["regserial.serial.v1.SerialService"]);
//! let listener = Listener::bind(addr).await?;
//! spawn_readiness(health.clone(), db.clone(), Duration::from_secs(5), health.draining());
//! ServerBuilder::new(&health, &[regserial::FILE_DESCRIPTOR_SET])?
//!     .add_service(InterceptedService::new(serial_server, authenticator.clone()))
//!     .serve(listener, shutdown_signal(), Duration::from_secs(20))
//!     .await
//! ```
//!
//! Prometheus metrics and per-org rate limits will be tower layers added to [`Layers`].

mod args;
mod health;
mod listener;
mod readiness;
mod reflection;
mod request_log;
mod serve;
mod signal;
mod startup;

pub use args::ServiceArgs;
pub use health::Health;
pub use listener::Listener;
pub use readiness::{PING_TIMEOUT, spawn_readiness};
pub use reflection::reflection;
pub use request_log::{LoggedBody, LoggedFuture, RequestLog, RequestLogLayer};
pub use serve::{
    DEFAULT_REQUEST_TIMEOUT, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, Layers, Router, ServerBuilder, serve,
    server, server_with_timeout,
};
pub use signal::shutdown_signal;
pub use startup::{Readiness, bind, connect_database, exit_code, migrate_unless_skipped};

#[cfg(test)]
mod tests;
