//! The global subscriber's layers: log lines (text or JSON) filtered by `RUST_LOG`, span
//! export when a tracer is given, and the `trace_id` of a traced call on each of its lines.

use std::fmt;

use opentelemetry_sdk::trace::Tracer;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::{EnvFilter, filter};

use super::{LogFormat, SPAN_TARGET, TRACE_ID_FIELD};

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
    let mut layers: Vec<BoxedLayer> = vec![TraceIdLayer.boxed()];
    layers.push(match format {
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
    });
    if let Some(tracer) = tracer {
        let spans = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_location(false)
            // Spans at info and above; of the events, warnings and errors (as span events).
            .with_filter(filter::filter_fn(|meta| {
                let most_verbose = if meta.is_span() { Level::INFO } else { Level::WARN };
                *meta.level() <= most_verbose
            }));
        layers.push(spans.boxed());
    }
    layers
}

/// A span's `trace_id` field, kept in its extensions for the log lines written within it.
struct TraceId(String);

/// Keeps each span's [`TraceId`].
struct TraceIdLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for TraceIdLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = TraceIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(trace_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().replace(TraceId(trace_id));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut visitor = TraceIdVisitor(None);
        values.record(&mut visitor);
        if let (Some(trace_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().replace(TraceId(trace_id));
        }
    }
}

struct TraceIdVisitor(Option<String>);

impl Visit for TraceIdVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == TRACE_ID_FIELD {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == TRACE_ID_FIELD {
            self.0 = Some(format!("{value:?}"));
        }
    }
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
