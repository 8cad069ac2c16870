//! Sampling decided before a span opens, where a trace starts in this process: at a call's
//! SERVER span (following the caller's decision in `traceparent` as the sampler says), or at a
//! span opened outside any other. The sampler is the one the standard environment chooses
//! (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`); the SDK itself then samples everything
//! it is handed ([`otlp`](super::otlp) builds it with `AlwaysOn`).
//!
//! Deciding first is what makes a call left out of the sample cheap: its span is opened where
//! the span exporter does not look, and nothing within it is handed to the exporter (see
//! `Exported` in [`logs`](super::logs)), where the SDK would otherwise build, and then drop, a
//! span for each of its statements. Its decision is passed on all the same: the context the
//! call runs in carries its trace id and an unsampled span of its own, which registration-svc
//! writes into its calls to serial-svc.

use std::sync::OnceLock;

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanKind, TraceContextExt as _, TraceFlags};
use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator, SamplingDecision, ShouldSample};

/// The sampler, once spans are exported.
static SAMPLER: OnceLock<Box<dyn ShouldSample>> = OnceLock::new();

/// Decides with `sampler` from now on (the first call wins: one sampler per process).
pub(crate) fn install(sampler: Box<dyn ShouldSample>) {
    let _ = SAMPLER.set(sampler);
}

/// A call's sampling.
pub(crate) enum Decision {
    /// Its span is exported.
    Sampled,
    /// Its span is not: the context to run it in, which carries the decision on.
    Unsampled(Context),
}

/// The decision for a call to `name` whose caller sent `parent`; `None` when spans are not
/// exported.
pub(crate) fn call(parent: &Context, name: &str) -> Option<Decision> {
    let sampler = SAMPLER.get()?;
    let caller = parent.span().span_context().clone();
    let trace_id =
        if caller.is_valid() { caller.trace_id() } else { RandomIdGenerator::default().new_trace_id() };
    let result = sampler.should_sample(Some(parent), trace_id, name, &SpanKind::Server, &[], &[]);
    if result.decision == SamplingDecision::RecordAndSample {
        return Some(Decision::Sampled);
    }
    let own = RandomIdGenerator::default().new_span_id();
    let context = SpanContext::new(trace_id, own, TraceFlags::default(), false, result.trace_state);
    Some(Decision::Unsampled(Context::new().with_remote_span_context(context)))
}

/// Whether a span `name` opened outside any other span starts a sampled trace (always, when no
/// sampler is installed: the SDK's own then decides).
pub(crate) fn root(name: &str) -> bool {
    SAMPLER.get().is_none_or(|sampler| {
        let trace_id = RandomIdGenerator::default().new_trace_id();
        sampler.should_sample(None, trace_id, name, &SpanKind::Internal, &[], &[]).decision
            == SamplingDecision::RecordAndSample
    })
}
