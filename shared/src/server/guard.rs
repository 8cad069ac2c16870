//! A gRPC service behind a [`Guard`] that may answer a call in its place (the start-up gate, the
//! per-org rate limit).

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::TryFutureExt;
use futures::future::{Either, MapOk, Ready, ready};
use tonic::server::NamedService;
use tower::Service;

use super::bounds::GrpcBody;

/// What may answer a call in the service's place.
pub trait Guard {
    /// The answer to `request` in the service's place, or `None` to let it through.
    fn refuse(&self, request: &http::Request<tonic::body::Body>)
    -> Option<http::Response<tonic::body::Body>>;
}

/// No guard: every call passes.
impl<G: Guard> Guard for Option<G> {
    fn refuse(
        &self,
        request: &http::Request<tonic::body::Body>,
    ) -> Option<http::Response<tonic::body::Body>> {
        self.as_ref()?.refuse(request)
    }
}

/// A gRPC service behind a [`Guard`].
#[derive(Clone, Debug)]
pub struct Guarded<S, G> {
    inner: S,
    guard: G,
}

impl<S, G> Guarded<S, G> {
    /// `service` behind `guard`.
    pub fn new(service: S, guard: G) -> Self {
        Self { inner: service, guard }
    }
}

impl<S: NamedService, G> NamedService for Guarded<S, G> {
    const NAME: &'static str = S::NAME;
}

/// The response of a service behind a guard: the guard's refusal, or the service's own response.
pub type GuardedFuture<F, B> = Either<
    Ready<Result<http::Response<tonic::body::Body>, Infallible>>,
    MapOk<F, fn(http::Response<B>) -> http::Response<tonic::body::Body>>,
>;

impl<S, B, G> Service<http::Request<tonic::body::Body>> for Guarded<S, G>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<B>, Error = Infallible>,
    B: GrpcBody,
    G: Guard,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = GuardedFuture<S::Future, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        match self.guard.refuse(&request) {
            Some(refusal) => Either::Left(ready(Ok(refusal))),
            None => Either::Right(
                self.inner.call(request).map_ok(|response| response.map(tonic::body::Body::new)),
            ),
        }
    }
}
