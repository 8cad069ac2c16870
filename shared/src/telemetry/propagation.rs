//! W3C trace context in gRPC metadata: read from a call's headers on the server, written into
//! them on the client, through the global propagator ([`super::init`] installs
//! `TraceContextPropagator`).

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;

/// The context a caller sent (`traceparent`, `tracestate`), or an empty one.
pub fn extract(headers: &HeaderMap) -> opentelemetry::Context {
    opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&Headers(headers)))
}

/// Writes `cx` into `headers` (nothing when `cx` holds no valid span).
pub fn inject(cx: &opentelemetry::Context, headers: &mut HeaderMap) {
    if !cx.span().span_context().is_valid() {
        return;
    }
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut HeadersMut(headers));
    });
}

/// The trace id of the span in `cx` (a caller's, from `traceparent`), as 32 hex digits.
pub fn trace_id_of(cx: &opentelemetry::Context) -> Option<String> {
    let span = cx.span();
    let context = span.span_context();
    context.is_valid().then(|| context.trace_id().to_string())
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_traceparent_goes_through_headers_both_ways() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let mut sent = HeaderMap::new();
        sent.insert("traceparent", HeaderValue::from_static(PARENT));
        let cx = extract(&sent);
        assert_eq!(trace_id_of(&cx).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        let mut forwarded = HeaderMap::new();
        inject(&cx, &mut forwarded);
        assert_eq!(forwarded.get("traceparent").unwrap(), PARENT);
        let none = TraceContextPropagator::new().extract(&Headers(&HeaderMap::new()));
        assert_eq!(trace_id_of(&none), None);
        let mut untouched = HeaderMap::new();
        inject(&none, &mut untouched);
        assert!(untouched.is_empty());
    }
}
