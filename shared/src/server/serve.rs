//! The common tonic server, and serving it until shutdown with an ordered, bounded drain.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use tonic::transport::Server;
use tower::layer::util::{Identity, Stack};

use super::{Gate, GrpcBody, Health, Limits, Listener, RoutableService, reflection};
use crate::telemetry::grpc::GrpcTelemetryLayer;

/// The longest a unary call (or a client stream, until its response) may run, unless the
/// client's `grpc-timeout` is shorter. tonic answers CANCELLED ("Timeout expired") past either.
/// Server streams are not limited once their response has started.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// HTTP/2 PING interval on idle connections, and how long an unanswered PING keeps them open.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The tower layers every service runs behind: [`GrpcTelemetryLayer`] gives each call its span,
/// log line and metrics. Per-org rate limits are meant to join it here.
pub type Layers = Stack<GrpcTelemetryLayer, Identity>;
/// A router of [`server()`] with services added.
pub type Router = tonic::transport::server::Router<Layers>;

/// The tonic server settings both services share: HTTP/2 keepalive, a default request timeout
/// and each call's span, log line and metrics. (`TCP_NODELAY` is set by [`Listener`].)
pub fn server() -> Server<Layers> {
    server_with_timeout(DEFAULT_REQUEST_TIMEOUT)
}

/// [`server()`] with another request timeout.
pub fn server_with_timeout(request_timeout: Duration) -> Server<Layers> {
    Server::builder()
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .timeout(request_timeout)
        .layer(GrpcTelemetryLayer::server())
}

/// A server with health and reflection already added (without auth), to which a service adds
/// its own gRPC services, each wrapped by the [`crate::auth::Authenticator`]
/// ([`Authenticator::wrap`](crate::auth::Authenticator::wrap)), and behind a [`Gate`] if one is
/// set.
pub struct ServerBuilder {
    router: Router,
    health: Health,
    gate: Option<Gate>,
    limits: Limits,
}

impl ServerBuilder {
    /// [`server()`] serving `health` and reflection of `descriptor_sets` (see [`reflection`]).
    pub fn new(health: &Health, descriptor_sets: &[&'static [u8]]) -> anyhow::Result<Self> {
        Self::with_server(server(), health, descriptor_sets)
    }

    /// Like [`ServerBuilder::new`] on a server configured otherwise.
    pub fn with_server(
        mut server: Server<Layers>,
        health: &Health,
        descriptor_sets: &[&'static [u8]],
    ) -> anyhow::Result<Self> {
        let (v1, v1alpha) = reflection(descriptor_sets, &health.services())?;
        let router = server.add_service(health.service()).add_service(v1).add_service(v1alpha);
        Ok(Self { router, health: health.clone(), gate: None, limits: Limits::default() })
    }

    /// Puts the services added from now on behind `gate` (health and reflection never are).
    pub fn behind(mut self, gate: &Gate) -> Self {
        self.gate = Some(gate.clone());
        self
    }

    /// Sheds the calls of the services added from now on beyond `limits`' concurrency limit
    /// (health and reflection never are). Every service's calls know their deadline
    /// ([`super::deadline::remaining`]), limits or not.
    pub fn limited(mut self, limits: &Limits) -> Self {
        self.limits = limits.clone();
        self
    }

    /// Adds a generated gRPC server (message limits set by the caller), plain or intercepted.
    pub fn add_service<S, B>(mut self, service: S) -> Self
    where
        S: RoutableService<B>,
        B: GrpcBody,
    {
        self.router = match &self.gate {
            Some(gate) => self.limits.add(self.router, gate.guard(service)),
            None => self.limits.add(self.router, service),
        };
        self
    }

    /// The router, for [`serve`] or for tonic's own serve methods.
    pub fn into_router(self) -> Router {
        self.router
    }

    /// [`serve`]s on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: Listener,
        shutdown: impl Future<Output = ()>,
        grace: Duration,
    ) -> anyhow::Result<()> {
        serve(listener, self.router, self.health, shutdown, grace).await
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then: health turns NOT_SERVING and
/// [`Health::draining`] is cancelled (stopping the readiness task), no new connection is
/// accepted, open ones are told to go (HTTP/2 GOAWAY: clients send their next calls on a new
/// connection, to another replica), and in-flight calls get at most `grace` to finish before
/// this returns (`--shutdown-grace`).
pub async fn serve(
    listener: Listener,
    router: Router,
    health: Health,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> anyhow::Result<()> {
    let address = listener.local_addr();
    let grace_ms = grace.as_millis();
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        health.start_draining();
        tracing::info!(%address, grace_ms, "shutting down, draining in-flight calls");
        let _ = draining_tx.send(());
    };
    let serving = router.serve_with_incoming_shutdown(listener.into_incoming(), signal);
    tokio::pin!(serving);
    tracing::info!(%address, "grpc server started");

    tokio::select! {
        biased;
        result = &mut serving => {
            result.context("grpc server failed")?;
            tracing::info!(%address, "grpc server stopped");
            return Ok(());
        }
        Ok(()) = draining_rx => {}
    }
    match tokio::time::timeout(grace, &mut serving).await {
        Ok(result) => {
            result.context("grpc server failed while draining")?;
            tracing::info!(%address, "grpc server stopped");
        }
        Err(_) => {
            tracing::warn!(%address, grace_ms, "shutdown grace passed, abandoning calls still running");
        }
    }
    Ok(())
}
