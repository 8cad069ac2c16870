//! Logs and traces, initialised once per process ([`init`]): log lines on stderr (text or
//! JSON) filtered by `RUST_LOG` (default `info`; stdout stays free for command output such as
//! minted tokens), and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans exported over OTLP/gRPC
//! through `tracing-opentelemetry` ([`otlp`]), their tracer provider held and flushed by the
//! [`TelemetryGuard`]. The W3C `TraceContextPropagator` is the global propagator either way, so
//! a caller's `traceparent` is honoured and passed on.
//!
//! Spans of a gRPC call (server and client) come from the [`grpc`] layer; database spans are
//! the stores' `#[tracing::instrument(name = "db", target = "regserial_spans", ...)]` with
//! `db.system` and `db.operation`. Every log line written within a traced call carries its `trace_id`: a field of
//! the call's span in text lines, a top-level member in JSON lines.

pub mod codes;
pub mod grpc;
mod logs;
pub mod otlp;
pub mod propagation;
mod sampling;
#[cfg(feature = "testing")]
mod testing;

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[cfg(feature = "testing")]
pub use testing::{LogCapture, TestTelemetry, init_for_tests_with};

/// The target of the spans this crate opens for calls and statements: always on for the log
/// lines' context (and for export), whatever `RUST_LOG` filters out.
pub const SPAN_TARGET: &str = "regserial_spans";
/// The target of the span of a call left out of the sample while spans are exported: seen by
/// the log lines (it is within [`SPAN_TARGET`]), never by the span exporter.
pub const UNSAMPLED_SPAN_TARGET: &str = "regserial_spans::unsampled";
/// The field of a call's span holding its trace id (32 hex digits).
pub const TRACE_ID_FIELD: &str = "trace_id";

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `trace_id` (within a traced call),
    /// `fields`, `target`, and the current `span`.
    Json,
}

/// Keeps telemetry alive: dropping it (at the very end of `main`, after the server has
/// drained) shuts the tracer provider down, exporting the spans still buffered.
#[derive(Debug)]
#[must_use = "telemetry is shut down when the guard is dropped"]
pub struct TelemetryGuard {
    service: &'static str,
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// A guard of `provider`, as [`init`] makes when spans are exported (for tests of the
    /// guard itself).
    pub fn of_provider(service: &'static str, provider: SdkTracerProvider) -> Self {
        Self { service, provider: Some(provider) }
    }

    /// Exports the spans buffered so far, without shutting down.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(err) = provider.force_flush()
        {
            tracing::warn!(error = %err, "cannot flush spans");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Blocks until the batch is exported (or the export times out): run from a
            // multi-threaded runtime, whose other workers carry the exporter's connection.
            match provider.shutdown() {
                Ok(()) => tracing::debug!(service = self.service, "spans flushed"),
                Err(err) => tracing::warn!(service = self.service, error = %err, "cannot flush spans"),
            }
        }
        tracing::debug!(service = self.service, "telemetry shut down");
    }
}

/// Installs the global subscriber for `service` (the binary's name, `service.name` unless
/// `OTEL_SERVICE_NAME` says otherwise), with span export when `OTEL_EXPORTER_OTLP_ENDPOINT` is
/// set. Must run within a tokio runtime (the exporter's connection lives there). A second call
/// (or a subscriber installed by someone else) leaves the first one in place.
pub fn init(service: &'static str, format: LogFormat) -> anyhow::Result<TelemetryGuard> {
    let export = otlp::Export::from_env(service)?;
    let provider = export.as_ref().map(otlp::Export::provider).transpose()?;
    let tracer = provider.as_ref().map(|provider| provider.tracer(service));
    let (filter, bad_filter) = match EnvFilter::try_from_default_env() {
        Ok(filter) => (filter, None),
        Err(err) => {
            let bad = std::env::var(EnvFilter::DEFAULT_ENV).ok().map(|value| (value, err));
            (EnvFilter::new("info"), bad)
        }
    };
    let writer = BoxMakeWriter::new(std::io::stderr);
    let ansi = std::io::stderr().is_terminal();
    let layers = logs::layers(format, writer, ansi, filter, tracer);
    set_propagator();
    if let Err(err) = tracing_subscriber::registry().with(layers).try_init() {
        tracing::debug!(service, error = %err, "a global subscriber is already installed");
    }
    if let Some((value, err)) = bad_filter {
        tracing::warn!(rust_log = value, error = %err, "invalid RUST_LOG, logging at info");
    }
    if let Some(export) = &export {
        tracing::info!(endpoint = export.endpoint, service_name = export.service_name, "exporting spans");
    }
    Ok(TelemetryGuard { service, provider })
}

fn set_propagator() {
    static SET: OnceLock<()> = OnceLock::new();
    SET.get_or_init(|| opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new()));
}

/// What the tests of this process installed: the tracer provider when they export spans.
static TEST_SUBSCRIBER: OnceLock<Option<SdkTracerProvider>> = OnceLock::new();

/// For tests: logs go to the test harness's captured output when `TEST_LOG` is set, nowhere
/// otherwise. Safe to call from every test; a test binary that exports spans calls
/// `init_for_tests_with` (feature `testing`) before it.
pub fn init_for_tests() {
    TEST_SUBSCRIBER.get_or_init(|| {
        set_propagator();
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("debug"));
            let layers = logs::layers(LogFormat::Text, BoxMakeWriter::new(TestWriter), false, filter, None);
            let _ = tracing_subscriber::registry().with(layers).try_init();
        }
        None
    });
}

/// The test harness's captured output, as `with_test_writer` has it.
#[derive(Clone, Copy)]
struct TestWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for TestWriter {
    type Writer = tracing_subscriber::fmt::TestWriter;

    fn make_writer(&'a self) -> Self::Writer {
        tracing_subscriber::fmt::TestWriter::new()
    }
}

#[cfg(test)]
mod tests;
