//! `GET /metrics` over HTTP/1.1, bound before it serves (port 0 allowed, the bound address
//! published), stopped with the service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;

/// Prometheus's text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// How often histograms are folded and idle metrics dropped when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// What runs before each scrape is rendered (reading gauges that are cheap to read).
type Refresh = Arc<dyn Fn() + Send + Sync>;

/// The metrics endpoint of one service.
pub struct MetricsEndpoint {
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    handle: PrometheusHandle,
    refresh: Vec<Refresh>,
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    refresh: Arc<[Refresh]>,
}

impl MetricsEndpoint {
    /// Installs the recorder (see [`super::install`]) and binds `addr`.
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let handle = super::install()?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--metrics-listen (METRICS_LISTEN_ADDR): cannot listen on {addr}"))?;
        let address = listener.local_addr().context("the metrics endpoint's address")?;
        Ok(Self { listener, address, handle, refresh: Vec::new() })
    }

    /// The address bound (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Runs `refresh` before each scrape is rendered.
    pub fn on_scrape(mut self, refresh: impl Fn() + Send + Sync + 'static) -> Self {
        self.refresh.push(Arc::new(refresh));
        self
    }

    /// Serves `GET /metrics` until `shutdown` resolves.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let address = self.address;
        let scrape = Scrape { handle: self.handle.clone(), refresh: self.refresh.into() };
        let app = axum::Router::new().route("/metrics", axum::routing::get(render)).with_state(scrape);
        let upkeep = tokio::spawn(upkeep(self.handle));
        tracing::info!(%address, "metrics endpoint started");
        let served = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        upkeep.abort();
        served.with_context(|| format!("metrics endpoint on {address} failed"))?;
        tracing::info!(%address, "metrics endpoint stopped");
        Ok(())
    }
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    for refresh in scrape.refresh.iter() {
        refresh();
    }
    ([(CONTENT_TYPE, TEXT_FORMAT)], scrape.handle.render())
}

/// Histogram samples pile up between scrapes: fold them in now and then, scraped or not.
async fn upkeep(handle: PrometheusHandle) {
    let mut every = tokio::time::interval(UPKEEP_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}

/// Where a service's metrics endpoint was bound, once it is: for tests and tools that asked
/// for port 0. Clones share the address.
#[derive(Clone, Debug)]
pub struct BoundAddress(Arc<watch::Sender<Option<SocketAddr>>>);

impl Default for BoundAddress {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(None)))
    }
}

impl BoundAddress {
    pub fn set(&self, address: SocketAddr) {
        self.0.send_replace(Some(address));
    }

    pub fn get(&self) -> Option<SocketAddr> {
        *self.0.borrow()
    }

    /// The address, once the endpoint is bound.
    pub async fn wait(&self) -> SocketAddr {
        let mut changes = self.0.subscribe();
        let bound = changes.wait_for(Option::is_some).await.expect("the sender is held by self");
        bound.expect("waited for Some")
    }
}
