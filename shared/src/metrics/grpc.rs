//! The gRPC metrics, named and labelled as go-grpc-prometheus writes them, so that the
//! dashboards and alerts made for it apply unchanged.

use std::time::Duration;

use tonic::Code;

use crate::telemetry::codes::go_name;
use crate::telemetry::grpc::Method;
use crate::telemetry::grpc::Side;

pub const SERVER_STARTED: &str = "grpc_server_started_total";
pub const SERVER_HANDLED: &str = "grpc_server_handled_total";
pub const SERVER_HANDLING_SECONDS: &str = "grpc_server_handling_seconds";
pub const CLIENT_STARTED: &str = "grpc_client_started_total";
pub const CLIENT_HANDLED: &str = "grpc_client_handled_total";
pub const CLIENT_HANDLING_SECONDS: &str = "grpc_client_handling_seconds";

/// go-grpc-prometheus's (and Prometheus's) default buckets, in seconds.
pub const HANDLING_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A call to `method` started.
pub fn started(side: Side, method: &Method) {
    let name = match side {
        Side::Server => SERVER_STARTED,
        Side::Client => CLIENT_STARTED,
    };
    metrics::counter!(name, "grpc_service" => method.service, "grpc_method" => method.method).increment(1);
}

/// A call to `method` ended with `code` after `elapsed`.
pub fn handled(side: Side, method: &Method, code: Code, elapsed: Duration) {
    let (handled, seconds) = match side {
        Side::Server => (SERVER_HANDLED, SERVER_HANDLING_SECONDS),
        Side::Client => (CLIENT_HANDLED, CLIENT_HANDLING_SECONDS),
    };
    metrics::counter!(
        handled,
        "grpc_service" => method.service,
        "grpc_method" => method.method,
        "grpc_code" => go_name(code)
    )
    .increment(1);
    metrics::histogram!(seconds, "grpc_service" => method.service, "grpc_method" => method.method)
        .record(elapsed.as_secs_f64());
}
