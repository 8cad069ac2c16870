//! Logging, initialised once per process: an `EnvFilter` from `RUST_LOG` (default `info`) and
//! text or JSON lines on stderr (stdout stays free for command output such as minted tokens).
//!
//! OpenTelemetry tracing (OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set) slots in here
//! as one more layer of the subscriber, its tracer provider held by the [`TelemetryGuard`].

use std::io::IsTerminal as _;
use std::sync::Once;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`, and the current `span`.
    Json,
}

/// Keeps telemetry alive; dropping it at the end of `main` flushes what is buffered.
///
/// Nothing is buffered yet: log lines are written synchronously. This is where the OpenTelemetry
/// tracer provider will be kept and shut down (flushing its last spans) once OTLP export is added.
#[derive(Debug)]
#[must_use = "telemetry is shut down when the guard is dropped"]
pub struct TelemetryGuard {
    service: &'static str,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        tracing::debug!(service = self.service, "telemetry shut down");
    }
}

/// Installs the global subscriber for `service`. A second call (or a subscriber installed by
/// someone else) leaves the first one in place.
pub fn init(service: &'static str, format: LogFormat) -> TelemetryGuard {
    let (filter, bad_filter) = match EnvFilter::try_from_default_env() {
        Ok(filter) => (filter, None),
        Err(err) => {
            let bad = std::env::var(EnvFilter::DEFAULT_ENV).ok().map(|value| (value, err));
            (EnvFilter::new("info"), bad)
        }
    };
    let installed = match format {
        LogFormat::Text => {
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal());
            tracing_subscriber::registry().with(filter).with(layer).try_init()
        }
        LogFormat::Json => {
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_current_span(true)
                .with_span_list(false);
            tracing_subscriber::registry().with(filter).with(layer).try_init()
        }
    };
    if let Err(err) = installed {
        tracing::debug!(service, error = %err, "a global subscriber is already installed");
    }
    if let Some((value, err)) = bad_filter {
        tracing::warn!(rust_log = value, error = %err, "invalid RUST_LOG, logging at info");
    }
    TelemetryGuard { service }
}

/// For tests: logs go to the test harness's captured output when `TEST_LOG` is set, nowhere
/// otherwise. Safe to call from every test.
pub fn init_for_tests() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_none() {
            return;
        }
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("debug"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_logging_can_be_initialised_from_every_test() {
        init_for_tests();
        init_for_tests();
        tracing::info!(field = 1, "silent unless TEST_LOG is set");
    }

    #[test]
    fn the_log_format_parses_from_its_flag_value() {
        use clap::ValueEnum as _;
        assert_eq!(LogFormat::from_str("json", true), Ok(LogFormat::Json));
        assert_eq!(LogFormat::default(), LogFormat::Text);
    }
}
