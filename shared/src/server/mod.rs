//! Server bootstrap shared by both services: the tonic server settings, health (NOT_SERVING
//! until the migrations ran and the database answers, and again while draining), reflection v1
//! and v1alpha, binding before serving, a gate that turns the services' own calls away until
//! the database is ready, and an ordered, bounded shutdown; the startup steps every service
//! takes in the same order (`startup`).
//!
//! ```ignore
//! let listener = shared::server::bind("serial-svc", addr).await?;
//! let startup = Startup::new(&["regserial.serial.v1.SerialService"], DOMAIN, &db);
//! let server = ServerBuilder::new(startup.health(), &[regserial::FILE_DESCRIPTOR_SET])?
//!     .behind(startup.gate())
//!     .add_service(authenticator.wrap(serial_server));
//! startup.serve("serial-svc", server, listener, shutdown_signal(), &args, migrate).await
//! ```
//!
//! Limits (per-org rate limit, load shedding, call deadlines, connection age) are in [`limits`]:
//! `ServerBuilder::with_server(limits.server(), …)?.limited(&limits)` and each service
//! `authenticator.wrap(limits.rate_limited(service))`.
//! Every call's span, log line and metrics come from the telemetry layer in [`Layers`].

mod args;
mod bounds;
pub mod deadline;
#[cfg(test)]
mod echo;
mod gate;
mod guard;
mod health;
mod health_listener;
pub mod limits;
mod listener;
mod metrics_task;
mod readiness;
mod reflection;
mod serve;
mod signal;
mod startup;
mod tls;

pub use args::{DEFAULT_SHUTDOWN_GRACE, ServiceArgs};
pub use bounds::{GrpcBody, RoutableService};
pub use gate::{Gate, Gated, STARTING_RETRY_DELAY};
pub use guard::{Guard, Guarded, GuardedFuture};
pub use health::{Health, LIVENESS};
pub use health_listener::HealthListener;
pub use limits::{LimitArgs, Limits};
pub use listener::Listener;
pub use readiness::{PING_TIMEOUT, spawn_readiness};
pub use reflection::reflection;
pub use serve::{
    DEFAULT_REQUEST_TIMEOUT, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, Layers, Router, ServerBuilder, serve,
    server, server_with_timeout,
};
pub use signal::shutdown_signal;
pub use startup::{Prepared, STARTUP_RETRY_MAX, Startup, bind, connect_database, run_service};
pub use tls::{TLS_HANDSHAKE_TIMEOUT, TlsArgs};

#[cfg(test)]
mod tests;
