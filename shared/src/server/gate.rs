//! The gate in front of a service's own gRPC services while it starts: the server answers from
//! the moment it is bound (health NOT_SERVING, reflection), but a call that needs the database
//! before the migrations ran would meet missing tables. Until [`Gate::open`], such calls get
//! UNAVAILABLE with `DATABASE_UNAVAILABLE` and a RetryInfo, the answer to any other moment
//! the database cannot serve them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::guard::{Guard, Guarded};

/// How long a caller is told to wait before retrying a call the gate turned away.
pub const STARTING_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Closed until the service's database is ready; then open for good. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Gate {
    /// Read by every call: an atomic, where the token below takes a lock.
    open: Arc<AtomicBool>,
    /// Cancelled when the gate opens, for [`Gate::until_open`].
    opened: CancellationToken,
    domain: &'static str,
}

impl Gate {
    /// A closed gate whose refusals carry ErrorInfo `domain`.
    pub fn closed(domain: &'static str) -> Self {
        Self { open: Arc::new(AtomicBool::new(false)), opened: CancellationToken::new(), domain }
    }

    /// A gate that lets every call through (tests, and servers without a database).
    pub fn opened(domain: &'static str) -> Self {
        let gate = Self::closed(domain);
        gate.open();
        gate
    }

    /// Lets every call through from now on.
    pub fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.opened.cancel();
    }

    /// Resolves once the gate is open (never, if it never opens): the moment to start a
    /// service's background work (workers, purges).
    pub fn until_open(&self) -> impl Future<Output = ()> + Send + 'static {
        self.opened.clone().cancelled_owned()
    }

    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// `service` behind this gate.
    pub fn guard<S>(&self, service: S) -> Gated<S> {
        Guarded::new(service, self.clone())
    }

    fn refusal(&self) -> tonic::Status {
        let message = "starting: the database is not ready yet (migrations pending), retry later";
        crate::status::unavailable(self.domain, "DATABASE_UNAVAILABLE", message, STARTING_RETRY_DELAY)
    }
}

/// A gRPC service behind a [`Gate`].
pub type Gated<S> = Guarded<S, Gate>;

/// Turns every call away until the gate opens.
impl Guard for Gate {
    fn refuse(&self, _: &http::Request<tonic::body::Body>) -> Option<http::Response<tonic::body::Body>> {
        (!self.is_open()).then(|| self.refusal().into_http())
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tower::Service;

    use super::*;
    use crate::server::echo::Echo;

    async fn call(service: &mut Gated<Echo>) -> Option<tonic::Status> {
        let response = service.call(http::Request::new(tonic::body::Body::default())).await.unwrap();
        tonic::Status::from_header_map(response.headers())
    }

    #[tokio::test]
    async fn refuses_as_unavailable_with_retry_info_until_opened() {
        let gate = Gate::closed("test.regserial.dev");
        let mut service = gate.guard(Echo);
        let status = call(&mut service).await.expect("a refusal");
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.message().contains("starting"), "{status:?}");
        assert_eq!(crate::status::retry_delay(&status), Some(STARTING_RETRY_DELAY));

        gate.open();
        assert!(call(&mut service).await.is_none(), "the call reached the service");
        assert!(call(&mut Gate::opened("test.regserial.dev").guard(Echo)).await.is_none());
    }
}
