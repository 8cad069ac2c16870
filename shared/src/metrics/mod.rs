//! Prometheus metrics: one recorder per process (the `metrics` crate's global, rendered by
//! `metrics-exporter-prometheus`), filled by tower layers and background tasks, never by
//! handlers, and served as Prometheus text on `GET /metrics` by a [`MetricsEndpoint`] when
//! `--metrics-listen` is set. Without it no recorder is installed and every `metrics::` call is
//! a no-op.
//!
//! What is recorded:
//! - `telemetry::grpc::metrics`: `grpc_server_started_total`, `grpc_server_handled_total`,
//!   `grpc_server_handling_seconds` (histogram) with labels `grpc_service`, `grpc_method` (and
//!   `grpc_code` on `_handled_total`) as go-grpc-prometheus writes them, and the same
//!   `grpc_client_*` for registration-svc's calls to serial-svc. Health and reflection calls
//!   are counted too: they are real calls, and a probe storm or a failing health check is worth
//!   seeing; filter them by `grpc_service` where they are noise.
//! - [`pool`]: `db_pool_connections`, `db_pool_idle_connections` and
//!   `db_pool_max_connections`, labelled `service` and `pool`, read at each scrape.
//! - Metrics of a service's own, from its background tasks: registration-svc's gauge
//!   `registration_claim_attempts_open`, serial-svc's counter `serial_import_rows_total`
//!   (labelled `outcome`), moved by the import runner as each batch commits.

mod endpoint;
pub mod pool;

use std::sync::OnceLock;

use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use endpoint::{BoundAddress, MetricsEndpoint};

/// go-grpc-prometheus's (and Prometheus's) default buckets of the `*_handling_seconds`
/// histograms, in seconds.
const HANDLING_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Whether this process records metrics (its recorder is installed): without it, recording is
/// skipped altogether.
pub fn installed() -> bool {
    HANDLE.get().is_some()
}

/// Installs the process's recorder (once: later calls return the same handle), with
/// histogram buckets for every `*_seconds` metric.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), HANDLING_BUCKETS)
        .context("invalid histogram buckets")?
        .build_recorder();
    let handle = recorder.handle();
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            let _ = HANDLE.set(handle.clone());
            Ok(handle)
        }
        // Another thread installed ours meanwhile (or someone else's recorder is in place).
        Err(err) => {
            HANDLE.get().cloned().with_context(|| format!("cannot install the metrics recorder: {err}"))
        }
    }
}
