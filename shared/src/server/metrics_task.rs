//! A service's metrics endpoint, from `--metrics-listen`, for as long as the service runs.

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::ServiceArgs;
use crate::db::Db;
use crate::metrics::MetricsEndpoint;

/// The running endpoint of a service.
pub struct MetricsTask {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Binds `--metrics-listen` (publishing the address to `args.metrics_bound`) and serves the
/// process's metrics there, with `service`'s pool gauges read at each scrape; nothing when the
/// flag is unset.
pub async fn start(
    service: &'static str,
    args: &ServiceArgs,
    db: &Db,
) -> anyhow::Result<Option<MetricsTask>> {
    let Some(addr) = args.metrics_listen else { return Ok(None) };
    let db = db.clone();
    let endpoint =
        MetricsEndpoint::bind(addr).await?.on_scrape(move || crate::metrics::pool::record(service, &db));
    args.metrics_bound.set(endpoint.local_addr());
    let stop = CancellationToken::new();
    let task = tokio::spawn(endpoint.serve(stop.clone().cancelled_owned()));
    Ok(Some(MetricsTask { stop, task }))
}

impl MetricsTask {
    /// Stops serving (a scrape under way is answered first).
    pub async fn stop(self) {
        self.stop.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = format!("{err:#}"), "metrics endpoint failed"),
            Err(err) => tracing::warn!(error = %err, "metrics endpoint task failed"),
        }
    }
}
