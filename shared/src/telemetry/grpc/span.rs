//! The span of one call.

use http::HeaderMap;
use opentelemetry::trace::TraceContextExt as _;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::Method;
use crate::telemetry::{SPAN_TARGET, propagation};

/// A SERVER span for `method`, child of the context the caller sent in `headers`, and the
/// context to run the call in (the caller's, so that it is passed on even when no spans are
/// exported).
pub fn server(method: &Method, headers: &HeaderMap) -> (tracing::Span, opentelemetry::Context) {
    let parent = propagation::extract(headers);
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "grpc",
        otel.name = method.name,
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.grpc.status_code = Empty,
        trace_id = Empty,
    );
    let _ = span.set_parent(parent.clone());
    record_attributes(&span, method);
    record_trace_id(&span, &parent);
    (span, parent)
}

/// A CLIENT span for `method`, child of the current one, its context written into `headers`.
pub fn client(method: &Method, headers: &mut HeaderMap) -> (tracing::Span, opentelemetry::Context) {
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "grpc.client",
        otel.name = method.name,
        otel.kind = "client",
        otel.status_code = Empty,
        rpc.grpc.status_code = Empty,
        trace_id = Empty,
    );
    record_attributes(&span, method);
    // Without span export the caller's own context (if it had one) is passed on as it came.
    let mut cx = span.context();
    if !cx.span().span_context().is_valid() {
        cx = opentelemetry::Context::current();
    }
    propagation::inject(&cx, headers);
    record_trace_id(&span, &cx);
    (span, opentelemetry::Context::current())
}

/// The RPC attributes, straight onto the OpenTelemetry span (when spans are exported): as
/// tracing fields they would also be repeated in every log line of the call.
fn record_attributes(span: &tracing::Span, method: &Method) {
    if span.is_disabled() {
        return;
    }
    span.set_attribute("rpc.system", "grpc");
    span.set_attribute("rpc.service", method.service);
    span.set_attribute("rpc.method", method.method);
}

/// Records the trace id of the span's own context (when spans are exported), else of `remote`.
fn record_trace_id(span: &tracing::Span, remote: &opentelemetry::Context) {
    let own = span.context();
    let trace_id = propagation::trace_id_of(&own).or_else(|| propagation::trace_id_of(remote));
    if let Some(trace_id) = trace_id {
        span.record(crate::telemetry::TRACE_ID_FIELD, tracing::field::display(trace_id));
    }
}
