//! The one health probe of the tests: `grpc.health.v1.Health/Check`, once or until it says so.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// The longest a probe waits for a connection or an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest [`wait_for`] polls (a process starting on a loaded CI machine included).
const WAIT: Duration = Duration::from_secs(60);

/// The status of `service` (`""`: the whole server) over `channel`; `None` when there is no
/// answer within 2 s.
pub async fn health(channel: Channel, service: &str) -> Option<ServingStatus> {
    let request = HealthCheckRequest { service: service.to_owned() };
    let reply = tokio::time::timeout(PROBE_TIMEOUT, HealthClient::new(channel).check(request)).await;
    ServingStatus::try_from(reply.ok()?.ok()?.into_inner().status).ok()
}

/// The status of the whole server at `addr` (plaintext, a new connection), if it answers.
pub async fn health_at(addr: SocketAddr) -> Option<ServingStatus> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}")).ok()?.connect_timeout(PROBE_TIMEOUT);
    health(endpoint.connect().await.ok()?, "").await
}

/// Polls `probe` every 20 ms until it answers `status`; panics naming `what` when it has not
/// after 60 s. (`probe` may panic itself, for a server that stopped.)
pub async fn wait_for<F, Fut>(what: &str, status: ServingStatus, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<ServingStatus>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let seen = probe().await;
        if seen == Some(status) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not become {status:?} (last seen: {seen:?})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
