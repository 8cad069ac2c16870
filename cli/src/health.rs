//! Waiting for a service to report SERVING on `grpc.health.v1.Health/Check`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Pause between two health checks.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Polls `service`'s health at `addr` until it is SERVING, or fails after `within`.
pub async fn wait_until_serving(addr: SocketAddr, service: &str, within: Duration) -> anyhow::Result<()> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .with_context(|| format!("invalid address {addr}"))?
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(1));
    let mut client = HealthClient::new(endpoint.connect_lazy());
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let request = HealthCheckRequest { service: service.to_owned() };
        let last = match client.check(request).await {
            Ok(response) if response.get_ref().status() == ServingStatus::Serving => return Ok(()),
            Ok(response) => format!("status {:?}", response.get_ref().status()),
            Err(status) => format!("{:?}: {}", status.code(), status.message()),
        };
        if tokio::time::Instant::now() >= deadline {
            bail!("{service} at {addr} is not serving after {within:?} ({last})");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
