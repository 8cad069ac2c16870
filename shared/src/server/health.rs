//! `grpc.health.v1.Health` for a fixed list of services plus the overall `""` service: the
//! readiness signal. All of them start NOT_SERVING and move together; once draining has started
//! they stay NOT_SERVING. Besides them, [`LIVENESS`] is SERVING for as long as the server
//! answers at all, whatever the database does: the liveness signal (a restart cannot fix an
//! unreachable database, so it must not cause one).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use futures::Stream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health as HealthApi, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// The health service name of the liveness signal (Kubernetes `livenessProbe.grpc.service`):
/// SERVING whenever the server answers. Not a gRPC service, so reflection does not list it.
pub const LIVENESS: &str = "liveness";

/// The serving status reported by health checks. Cheap to clone.
///
/// (tonic-health's own `HealthReporter` is not used: it starts the overall service SERVING and
/// can only change it asynchronously, which would leave a window where a fresh server claims to
/// be ready.)
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    statuses: HashMap<&'static str, watch::Sender<ServingStatus>>,
    /// Whether draining has started; held while statuses change so that no late "serving"
    /// can follow the switch to draining.
    draining: Mutex<bool>,
    drain_token: CancellationToken,
}

impl Health {
    /// Health for `services` (fully-qualified names such as `regserial.serial.v1.SerialService`)
    /// and the overall `""` service, all NOT_SERVING, and [`LIVENESS`], SERVING, with the gRPC
    /// service that reports them.
    pub fn new(services: &[&'static str]) -> (Health, HealthServer<impl HealthApi + use<>>) {
        let statuses = std::iter::once("")
            .chain(services.iter().copied())
            .map(|name| (name, watch::Sender::new(ServingStatus::NotServing)))
            .chain([(LIVENESS, watch::Sender::new(ServingStatus::Serving))])
            .collect();
        let inner = Inner { statuses, draining: Mutex::new(false), drain_token: CancellationToken::new() };
        let health = Health { inner: Arc::new(inner) };
        let server = health.service();
        (health, server)
    }

    /// The services this health reports on (without the overall `""` and [`LIVENESS`]): the
    /// services a server built with it serves, and so the ones its reflection advertises.
    pub fn services(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self
            .inner
            .statuses
            .keys()
            .copied()
            .filter(|name| !name.is_empty() && *name != LIVENESS)
            .collect();
        names.sort_unstable();
        names
    }

    /// Another handle on the gRPC service reporting these statuses.
    pub fn service(&self) -> HealthServer<impl HealthApi + use<>> {
        HealthServer::new(HealthService { health: self.clone() })
    }

    /// Sets every service (readiness) SERVING or NOT_SERVING; after [`Health::start_draining`]
    /// only NOT_SERVING is accepted. Liveness does not change.
    pub async fn set_serving(&self, serving: bool) {
        let draining = self.inner.draining.lock().unwrap_or_else(PoisonError::into_inner);
        let status = if serving && !*draining { ServingStatus::Serving } else { ServingStatus::NotServing };
        self.set_all(status);
    }

    /// Reports NOT_SERVING for good (readiness; liveness stays SERVING while calls in flight
    /// finish) and cancels [`Health::draining`]: the process is shutting down.
    pub fn start_draining(&self) {
        let mut draining = self.inner.draining.lock().unwrap_or_else(PoisonError::into_inner);
        *draining = true;
        self.set_all(ServingStatus::NotServing);
        self.inner.drain_token.cancel();
    }

    /// A token cancelled when draining starts (pass it to [`super::spawn_readiness`]).
    pub fn draining(&self) -> CancellationToken {
        self.inner.drain_token.clone()
    }

    /// The current status of `service` (`""` for the whole server), if it is one of ours.
    pub fn status(&self, service: &str) -> Option<ServingStatus> {
        self.inner.statuses.get(service).map(|tx| *tx.borrow())
    }

    fn set_all(&self, status: ServingStatus) {
        let readiness = self.inner.statuses.iter().filter(|(name, _)| **name != LIVENESS);
        for (_, tx) in readiness {
            tx.send_if_modified(|current| std::mem::replace(current, status) != status);
        }
    }
}

/// The gRPC side of [`Health`].
struct HealthService {
    health: Health,
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status as i32 }
}

fn unknown_service(name: &str) -> Status {
    Status::not_found(format!("unknown service {name:?}"))
}

#[tonic::async_trait]
impl HealthApi for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let name = &request.get_ref().service;
        let status = self.health.status(name).ok_or_else(|| unknown_service(name))?;
        Ok(Response::new(response(status)))
    }

    type WatchStream = WatchStream;

    /// The current status, then every change; the stream ends (after reporting NOT_SERVING)
    /// when draining starts, so that watchers do not hold the drain up.
    async fn watch(&self, request: Request<HealthCheckRequest>) -> Result<Response<WatchStream>, Status> {
        let name = &request.get_ref().service;
        let rx =
            self.health.inner.statuses.get(name.as_str()).ok_or_else(|| unknown_service(name))?.subscribe();
        let state = (rx, self.health.draining(), true);
        let stream = futures::stream::unfold(state, |(mut rx, draining, first)| async move {
            if !first {
                tokio::select! {
                    biased;
                    changed = rx.changed() => changed.ok()?,
                    () = draining.cancelled() => return None,
                }
            }
            let status = *rx.borrow_and_update();
            Some((Ok(response(status)), (rx, draining, false)))
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVC: &str = "regserial.serial.v1.SerialService";

    #[tokio::test]
    async fn every_service_starts_not_serving_and_moves_together() {
        let (health, _server) = Health::new(&[SVC]);
        assert_eq!(
            (health.status(""), health.status(SVC)),
            (Some(ServingStatus::NotServing), Some(ServingStatus::NotServing))
        );
        assert_eq!(health.status("other.Service"), None);
        health.set_serving(true).await;
        assert_eq!(
            (health.status(""), health.status(SVC)),
            (Some(ServingStatus::Serving), Some(ServingStatus::Serving))
        );
        health.set_serving(false).await;
        assert_eq!(health.status(SVC), Some(ServingStatus::NotServing));
    }

    #[tokio::test]
    async fn liveness_is_serving_from_the_start_whatever_readiness_does() {
        let (health, _server) = Health::new(&[SVC]);
        assert_eq!(health.status(LIVENESS), Some(ServingStatus::Serving));
        health.set_serving(true).await;
        health.set_serving(false).await;
        assert_eq!(health.status(LIVENESS), Some(ServingStatus::Serving));
        health.start_draining();
        assert_eq!(
            (health.status(""), health.status(LIVENESS)),
            (Some(ServingStatus::NotServing), Some(ServingStatus::Serving))
        );
        assert_eq!(health.services(), vec![SVC], "liveness is not a service to advertise");
    }

    #[tokio::test]
    async fn once_draining_nothing_turns_serving_again() {
        let (health, _server) = Health::new(&[SVC]);
        health.set_serving(true).await;
        let token = health.draining();
        health.start_draining();
        assert!(token.is_cancelled());
        health.set_serving(true).await;
        assert_eq!(health.status(""), Some(ServingStatus::NotServing));
    }

    #[tokio::test]
    async fn watch_reports_changes_and_ends_when_draining() {
        use futures::StreamExt as _;

        let (health, _server) = Health::new(&[SVC]);
        let service = HealthService { health: health.clone() };
        let request = Request::new(HealthCheckRequest { service: SVC.into() });
        let mut stream = service.watch(request).await.unwrap().into_inner();
        let next = |item: Option<Result<HealthCheckResponse, Status>>| item.map(|r| r.unwrap().status);
        assert_eq!(next(stream.next().await), Some(ServingStatus::NotServing as i32));
        health.set_serving(true).await;
        assert_eq!(next(stream.next().await), Some(ServingStatus::Serving as i32));
        health.start_draining();
        let rest: Vec<_> = stream.map(|r| r.unwrap().status).collect().await;
        assert!(rest.iter().all(|s| *s == ServingStatus::NotServing as i32), "{rest:?}");
    }
}
