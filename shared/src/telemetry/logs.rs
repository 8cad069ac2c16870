//! The global subscriber's layers: log lines (text or JSON) filtered by `RUST_LOG`, span
//! export when a tracer is given, and the `trace_id` of a traced call on each of its lines.

use std::fmt::{self, Write as _};

use opentelemetry_sdk::trace::Tracer;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{DefaultFields, Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::{LogFormat, SPAN_TARGET, TRACE_ID_FIELD, UNSAMPLED_SPAN_TARGET, sampling};

/// The name of a call's SERVER span (its OpenTelemetry name is `otel.name`, the method's).
pub const CALL_SPAN: &str = "grpc";

pub(super) type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The layers of the global subscriber: log lines in `format` to `writer`, filtered by
/// `filter`; spans to `tracer` when there is one.
pub(super) fn layers(
    format: LogFormat,
    writer: BoxMakeWriter,
    ansi: bool,
    filter: EnvFilter,
    tracer: Option<Tracer>,
) -> Vec<BoxedLayer> {
    // The calls' spans stay visible to the log lines whatever RUST_LOG says, so that a warning
    // written within a call still carries its method and trace id.
    let filter = match format!("{SPAN_TARGET}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let mut layers: Vec<BoxedLayer> = vec![match format {
        LogFormat::Text => {
            tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(ansi).with_filter(filter).boxed()
        }
        LogFormat::Json => {
            let json = tracing_subscriber::fmt::format().json().with_current_span(true).with_span_list(false);
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(JsonWithTraceId(json))
                .with_writer(writer)
                .with_filter(filter)
                .boxed()
        }
    }];
    if let Some(tracer) = tracer {
        let spans = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_location(false)
            // The call's OpenTelemetry context is what its spans' parents are made of, read
            // from the tracing span: nothing needs it made current on every poll.
            .with_context_activation(false)
            .with_filter(Exported);
        layers.push(spans.boxed());
    }
    layers
}

/// What the span exporter sees: spans at info and above; of the events, warnings and errors
/// (as span events); and of those, only what belongs to a sampled trace (see
/// [`super::sampling`]): a call's span when its call was sampled, whatever opens within a span
/// the exporter has, and a span opened outside any other when the sampler says so. Nothing
/// within a call left out of the sample is handed to the exporter. (Every layer has a filter:
/// a layer without one would have every span and event of every crate, h2's trace-level spans
/// included, created and dispatched to all layers.)
struct Exported;

impl Exported {
    fn wants(meta: &Metadata<'_>) -> bool {
        let most_verbose = if meta.is_span() { Level::INFO } else { Level::WARN };
        *meta.level() <= most_verbose && meta.target() != UNSAMPLED_SPAN_TARGET
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Filter<S> for Exported {
    fn enabled(&self, meta: &Metadata<'_>, ctx: &Context<'_, S>) -> bool {
        if !Self::wants(meta) {
            return false;
        }
        if meta.target() == SPAN_TARGET && meta.name() == CALL_SPAN {
            // A sampled call's span: decided as it was opened.
            return true;
        }
        if ctx.lookup_current().is_some() {
            // Within a span the exporter has.
            return true;
        }
        // Within spans the exporter does not have (an unsampled call's): nothing; outside any
        // span, a span starts a trace of its own.
        ctx.current_span().id().is_none() && meta.is_span() && sampling::root(meta.name())
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::wants(meta) { Interest::sometimes() } else { Interest::never() }
    }
}

/// A call's trace id, kept in its span's extensions for the log lines written within it.
struct TraceId(String);

/// Gives the call's `span` its `trace_id` for the log lines written within it: kept for JSON
/// lines' top-level member, and added to the span's fields as text lines show them. Written
/// straight into the registry's record of the span rather than through `Span::record`, which
/// every layer would hear of.
pub(super) fn keep_trace_id(span: &tracing::Span, trace_id: String) {
    span.with_subscriber(|(id, dispatch)| {
        let Some(span) = dispatch.downcast_ref::<Registry>().and_then(|registry| registry.span(id)) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<FormattedFields<DefaultFields>>() {
            let separator = if fields.fields.is_empty() { "" } else { " " };
            let _ = write!(fields.fields, "{separator}{TRACE_ID_FIELD}={trace_id}");
        }
        extensions.replace(TraceId(trace_id));
    });
}

/// tracing-subscriber's JSON lines with a top-level `trace_id` when the event is within a
/// traced call, where log pipelines look for it.
struct JsonWithTraceId(Format<Json>);

impl<S> FormatEvent<S, JsonFields> for JsonWithTraceId
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let trace_id = ctx.event_scope().and_then(|scope| {
            scope.into_iter().find_map(|span| span.extensions().get::<TraceId>().map(|id| id.0.clone()))
        });
        let Some(trace_id) = trace_id else { return self.0.format_event(ctx, writer, event) };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // The line is one JSON object: the trace id goes in as its first member (a trace id is
        // 32 hex digits, nothing to escape).
        match line.strip_prefix('{') {
            Some(rest) => write!(writer, "{{\"{TRACE_ID_FIELD}\":\"{trace_id}\",{rest}"),
            None => writer.write_str(&line),
        }
    }
}
