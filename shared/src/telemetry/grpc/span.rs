//! The span of one call.
//!
//! While spans are exported, a call's sampling is decided before its SERVER span opens
//! ([`sampling`]): a call left out of the sample gets a span for its log lines only
//! ([`UNSAMPLED_SPAN_TARGET`]), which the span exporter never sees, nor anything within it.

use http::HeaderMap;
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::Method;
use crate::telemetry::sampling::{self, Decision};
use crate::telemetry::{SPAN_TARGET, UNSAMPLED_SPAN_TARGET, logs, propagation};

pub use crate::telemetry::logs::CALL_SPAN;

/// A call's span, the context to run the call in, and whether the span is exported.
pub struct CallSpan {
    pub span: tracing::Span,
    pub cx: opentelemetry::Context,
    pub recording: bool,
}

/// A SERVER span for `method`, child of the context the caller sent in `headers`, and the
/// context to run the call in: the span's own when it is exported; else one that carries the
/// decision on (spans exported, call unsampled), or the caller's (no spans exported), so that
/// what the caller sent is passed on all the same.
pub fn server(method: &Method, headers: &HeaderMap) -> CallSpan {
    let parent = propagation::extract(headers);
    if let Some(Decision::Unsampled(cx)) = sampling::call(&parent, method.name) {
        let span = tracing::info_span!(
            target: UNSAMPLED_SPAN_TARGET,
            "grpc",
            otel.name = method.name,
            otel.kind = "server",
        );
        return opened(span, method, cx, false);
    }
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "grpc",
        otel.name = method.name,
        otel.kind = "server",
    );
    let _ = span.set_parent(parent.clone());
    let own = own_context(&span);
    let recording = exported(&own);
    let cx = if own.span().span_context().is_valid() { own } else { parent };
    opened(span, method, cx, recording)
}

/// A CLIENT span for `method`, child of the current one, its context (or, when the span is not
/// exported, the current one) written into `headers`.
pub fn client(method: &Method, headers: &mut HeaderMap) -> CallSpan {
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        "grpc.client",
        otel.name = method.name,
        otel.kind = "client",
    );
    let mut cx = own_context(&span);
    let recording = exported(&cx);
    if !cx.span().span_context().is_valid() {
        cx = opentelemetry::Context::current();
    }
    propagation::inject(&cx, headers);
    let call = opened(span, method, cx, recording);
    CallSpan { cx: opentelemetry::Context::current(), ..call }
}

/// The span's OpenTelemetry context, empty when the exporter does not have the span.
fn own_context(span: &tracing::Span) -> opentelemetry::Context {
    if span.is_disabled() { opentelemetry::Context::new() } else { span.context() }
}

/// Whether a span's own context is an exported span's.
fn exported(own: &opentelemetry::Context) -> bool {
    let context = own.span().span_context().clone();
    context.is_valid() && context.is_sampled()
}

/// Keeps the call's trace id (that of `cx`) for its log lines, and sets the RPC attributes of
/// an exported span straight onto it: as tracing fields they would also be repeated in every
/// log line.
fn opened(span: tracing::Span, method: &Method, cx: opentelemetry::Context, recording: bool) -> CallSpan {
    let trace_id = cx.span().span_context().trace_id();
    if trace_id != opentelemetry::trace::TraceId::INVALID {
        logs::keep_trace_id(&span, trace_id.to_string());
    }
    if recording {
        span.set_attribute("rpc.system", "grpc");
        span.set_attribute("rpc.service", method.service);
        span.set_attribute("rpc.method", method.method);
    }
    CallSpan { span, cx, recording }
}

/// The call's gRPC status on its exported span, the span's status an error when `failed`.
pub fn record_status(span: &tracing::Span, code: tonic::Code, failed: bool) {
    span.set_attribute("rpc.grpc.status_code", code as i64);
    if failed {
        span.set_status(opentelemetry::trace::Status::error(""));
    }
}
