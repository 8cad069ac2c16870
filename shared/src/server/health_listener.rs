//! A second, plaintext listener that serves only `grpc.health.v1.Health` (`--health-listen`),
//! answering from the same [`Health`] as the gRPC port: Kubernetes' gRPC probes (up to 1.36)
//! cannot speak TLS, so with TLS on the gRPC port they probe this one instead.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Health, Listener};
use crate::metrics::BoundAddress;

/// The running health listener; [`HealthListener::stop`] closes it.
pub struct HealthListener {
    stop: CancellationToken,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl HealthListener {
    /// Binds `addr` (port 0 allowed, the address bound published in `bound`) and serves
    /// `health` there until [`HealthListener::stop`].
    pub async fn start(addr: SocketAddr, health: &Health, bound: &BoundAddress) -> anyhow::Result<Self> {
        let listener = Listener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on --health-listen (HEALTH_LISTEN_ADDR) {addr}"))?;
        let address = listener.local_addr();
        bound.set(address);
        tracing::info!(%address, "health listening (plaintext, health only)");
        let stop = CancellationToken::new();
        let server = tonic::transport::Server::builder().add_service(health.service());
        let task = tokio::spawn(
            server.serve_with_incoming_shutdown(listener.into_incoming(), stop.clone().cancelled_owned()),
        );
        Ok(Self { stop, task })
    }

    /// Stops accepting probes and waits for the listener to close.
    pub async fn stop(self) {
        self.stop.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "health listener failed"),
            Err(err) => tracing::warn!(error = %err, "health listener task failed"),
        }
    }
}
