//! The gRPC metrics, named and labelled as go-grpc-prometheus writes them, so that the
//! dashboards and alerts made for it apply unchanged.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Counter, Histogram};

use tonic::Code;

use super::{Method, Side};
use crate::telemetry::codes::go_name;

pub const SERVER_STARTED: &str = "grpc_server_started_total";
pub const SERVER_HANDLED: &str = "grpc_server_handled_total";
pub const SERVER_HANDLING_SECONDS: &str = "grpc_server_handling_seconds";
pub const CLIENT_STARTED: &str = "grpc_client_started_total";
pub const CLIENT_HANDLED: &str = "grpc_client_handled_total";
pub const CLIENT_HANDLING_SECONDS: &str = "grpc_client_handling_seconds";

/// The handles of one method's metrics, registered on its first call (a `metrics::counter!`
/// call builds and hashes its key every time; a handle is an `Arc` to the value).
#[derive(Debug, Default)]
pub struct MethodMetrics {
    server: Handles,
    client: Handles,
}

#[derive(Debug, Default)]
struct Handles {
    started: OnceLock<Counter>,
    seconds: OnceLock<Histogram>,
    /// `_handled_total` by code, indexed by the code's number.
    handled: [OnceLock<Counter>; 17],
}

impl MethodMetrics {
    fn side(&self, side: Side) -> &Handles {
        match side {
            Side::Server => &self.server,
            Side::Client => &self.client,
        }
    }
}

/// A call to `method` started.
pub fn started(side: Side, method: &Method) {
    if !crate::metrics::installed() {
        return;
    }
    let name = match side {
        Side::Server => SERVER_STARTED,
        Side::Client => CLIENT_STARTED,
    };
    let labels = [("grpc_service", method.service), ("grpc_method", method.method)];
    method.metrics.side(side).started.get_or_init(|| metrics::counter!(name, &labels)).increment(1);
}

/// A call to `method` ended with `code` after `elapsed`.
pub fn handled(side: Side, method: &Method, code: Code, elapsed: Duration) {
    if !crate::metrics::installed() {
        return;
    }
    let (handled, seconds) = match side {
        Side::Server => (SERVER_HANDLED, SERVER_HANDLING_SECONDS),
        Side::Client => (CLIENT_HANDLED, CLIENT_HANDLING_SECONDS),
    };
    let handles = method.metrics.side(side);
    let labels = [("grpc_service", method.service), ("grpc_method", method.method)];
    if let Some(counter) = handles.handled.get(code as usize) {
        let labels = [labels[0], labels[1], ("grpc_code", go_name(code))];
        counter.get_or_init(|| metrics::counter!(handled, &labels)).increment(1);
    }
    handles.seconds.get_or_init(|| metrics::histogram!(seconds, &labels)).record(elapsed.as_secs_f64());
}
