//! Span export in tests (feature `testing`): the services of a test binary run in one process
//! and share its global subscriber, so the binary installs one exporting to its collector, once.

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::{LogFormat, TEST_SUBSCRIBER, TestWriter, logs, otlp, set_propagator};

/// How a test binary's spans and log lines leave it.
pub struct TestTelemetry {
    /// The OTLP/gRPC receiver spans go to.
    pub otlp_endpoint: String,
    /// A runtime that outlives every test of the binary, to carry the exporter's connection.
    pub runtime: tokio::runtime::Handle,
    /// Where JSON log lines go (at info); `None`: text lines as `init_for_tests` writes them.
    pub json_lines: Option<LogCapture>,
}

/// Log lines kept in memory, to be read back by a test. Clones share the lines.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Every complete line written so far.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the global subscriber of this test binary with span export as `telemetry` says,
/// the first time; returns its tracer provider (to flush it). Panics if a subscriber without
/// export was installed first.
pub fn init_for_tests_with(telemetry: impl FnOnce() -> TestTelemetry) -> &'static SdkTracerProvider {
    let installed = TEST_SUBSCRIBER.get_or_init(|| {
        let telemetry = telemetry();
        set_propagator();
        let export =
            otlp::Export { endpoint: telemetry.otlp_endpoint, service_name: "regserial-tests".to_owned() };
        let provider = {
            let _runtime = telemetry.runtime.enter();
            export.provider().expect("a tracer provider for the test collector")
        };
        let tracer = provider.tracer("regserial-tests");
        let layers = match telemetry.json_lines {
            Some(lines) => {
                let writer = BoxMakeWriter::new(move || lines.clone());
                logs::layers(LogFormat::Json, writer, false, EnvFilter::new("info"), Some(tracer))
            }
            None => {
                let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"));
                let writer = BoxMakeWriter::new(TestWriter);
                logs::layers(LogFormat::Text, writer, false, filter, Some(tracer))
            }
        };
        tracing_subscriber::registry().with(layers).try_init().expect("no global subscriber yet");
        Some(provider)
    });
    installed.as_ref().expect("init_for_tests ran before init_for_tests_with: call it first")
}
