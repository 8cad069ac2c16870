//! One tower layer observes every gRPC call, on both sides of the wire: the server's calls
//! (applied once in [`crate::server::server`]) and registration-svc's calls to serial-svc
//! (applied on its channel). For each call it
//!
//! - opens a span named `package.Service/Method` with OpenTelemetry's RPC conventions
//!   (`otel.kind` server or client, `rpc.system` `grpc`, `rpc.service`, `rpc.method`, and
//!   `rpc.grpc.status_code` once the call ends), the server's span a child of the caller's W3C
//!   `traceparent`, the client's span injected into the request's headers, so that serial-svc's
//!   server span is the child of registration-svc's client span;
//! - records the call's `trace_id` on that span, so that every log line written within the
//!   call carries it (see [`super::TRACE_ID_FIELD`]);
//! - on the server, writes one log line when the call ends: method, status code, latency;
//! - counts it in `grpc_{server,client}_handled_total` and `grpc_{server,client}_handling_seconds`
//!   (see [`crate::metrics`]).
//!
//! The status of a gRPC call is known either from the response headers (a trailers-only
//! response, as errors usually are) or from the trailers at the end of the body, so the call
//! ends at whichever comes first. A call dropped before it ends (client gone, or the server's
//! request timeout, which tonic answers with CANCELLED) ends as `Cancelled`.

mod body;
mod method;
pub mod metrics;
mod span;
#[cfg(test)]
mod tests;

use std::task::{Context, Poll};
use std::time::Instant;

use opentelemetry::context::FutureExt as _;
use tower::{Layer, Service};
use tracing::Instrument as _;

pub use body::{ObservedBody, ObservedFuture};
pub use method::Method;
pub use span::CALL_SPAN;

use self::body::Outcome;

/// Which end of the call this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Server,
    Client,
}

/// Observes each call (span, log line, metrics): see the [module](self).
#[derive(Clone, Copy, Debug)]
pub struct GrpcTelemetryLayer {
    side: Side,
}

impl GrpcTelemetryLayer {
    /// For a server: the caller's trace context is read from the request.
    pub const fn server() -> Self {
        Self { side: Side::Server }
    }

    /// For a client channel: the call's context is written into the request.
    pub const fn client() -> Self {
        Self { side: Side::Client }
    }
}

impl<S> Layer<S> for GrpcTelemetryLayer {
    type Service = GrpcTelemetry<S>;

    fn layer(&self, inner: S) -> GrpcTelemetry<S> {
        GrpcTelemetry { inner, side: self.side }
    }
}

/// The service made by [`GrpcTelemetryLayer`].
#[derive(Clone, Debug)]
pub struct GrpcTelemetry<S> {
    inner: S,
    side: Side,
}

impl<S> GrpcTelemetry<S> {
    /// `inner`, a client channel, observed as [`GrpcTelemetryLayer::client`] does.
    pub fn client(inner: S) -> Self {
        Self { inner, side: Side::Client }
    }
}

/// The future of the wrapped service, run in the call's span, within the caller's trace
/// context (outside the span, so that the span's own context, when spans are exported, is the
/// current one within it).
type Inner<F> = opentelemetry::context::WithContext<tracing::instrument::Instrumented<F>>;

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for GrpcTelemetry<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future = ObservedFuture<Inner<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        let method = Method::of(request.uri().path());
        metrics::started(self.side, &method);
        let call = match self.side {
            Side::Server => span::server(&method, request.headers()),
            Side::Client => span::client(&method, request.headers_mut()),
        };
        let span = call.span;
        let inner = span.in_scope(|| self.inner.call(request)).instrument(span.clone()).with_context(call.cx);
        ObservedFuture::new(inner, Outcome::new(self.side, method, span, call.recording, start))
    }
}
