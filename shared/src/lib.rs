//! What both regserial services run on.
//!
//! - [`auth`]: the bearer JWT of each call (HS256, EdDSA or RS256) becomes a [`auth::Principal`]
//!   (tenant `org`, subject, scopes); an interceptor checks it, handlers require scopes.
//! - [`status`]: `tonic::Status` values with google.rpc details (ErrorInfo, BadRequest,
//!   ResourceInfo, PreconditionFailure, RetryInfo), and reading them back on the client side.
//! - [`paging`]: page sizes and signed page tokens bound to the query they were issued for.
//! - [`db`]: a PostgreSQL pool, or SQLite as one writer connection plus a read pool, from a URL;
//!   transactions on either, and `request_id` replay.
//! - [`serial_number`]: the serial number rules both services parse by.
//! - [`request_id`]: a mutation's `request_id` parsed, with the fingerprint of its request.
//! - [`server`]: tonic server settings, health, reflection, readiness, graceful shutdown.
//!   Per-org rate limits slot in as tower layers there.
//! - [`telemetry`]: logging (text or JSON lines), OTLP span export (its tracer provider
//!   flushed by the returned guard), and the tower layer that gives every gRPC call, served or
//!   made, its span, log line and metrics.
//! - [`metrics`]: the Prometheus recorder and its `/metrics` endpoint.
//! - [`convert`]: proto `Timestamp`s to and from domain instants.
//! - [`clock`]: the current time as a dependency, so tests can move it.
//! - [`Allocator`]: the global allocator of every regserial binary.
//! - `testing` (feature `testing`): a fresh SQLite or PostgreSQL database per test.

pub mod allocator;
pub mod auth;
pub mod clock;
pub mod convert;
pub mod db;
pub mod keyed;
pub mod metrics;
pub mod paging;
pub mod request_id;
pub mod rpc;
pub mod serial_number;
pub mod server;
pub mod status;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use allocator::Allocator;
