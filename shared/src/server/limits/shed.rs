//! Load shedding: at most so many calls run at once in this process (one semaphore shared by
//! every service it is applied to), with tower's `ConcurrencyLimit`; a call beyond it is not
//! queued but refused at once (tower's `LoadShed`), as a gRPC answer: UNAVAILABLE with ErrorInfo
//! `OVERLOADED` and a RetryInfo, in a trailers-only response like any other tonic error.
//!
//! A call holds its permit until its response starts: for a unary call (and a client stream)
//! that is until the handler has answered; a server stream holds it until its first message.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::sync::Semaphore;
use tonic::server::NamedService;
use tower::Service;
use tower::limit::ConcurrencyLimit;
use tower::load_shed::LoadShed;
use tower::load_shed::error::Overloaded;

use crate::server::GrpcBody;

/// The ErrorInfo reason of a call refused by load shedding.
pub const OVERLOADED: &str = "OVERLOADED";
/// How long a caller turned away by load shedding is told to wait.
pub const OVERLOADED_RETRY_DELAY: Duration = Duration::from_millis(500);

/// A gRPC service whose calls count against a shared concurrency limit, shed beyond it.
#[derive(Clone)]
pub struct Shed<S> {
    inner: LoadShed<ConcurrencyLimit<S>>,
    domain: &'static str,
}

impl<S> Shed<S> {
    /// `service` sharing `permits` with every other service given the same semaphore.
    pub fn new(service: S, permits: Arc<Semaphore>, domain: &'static str) -> Self {
        Self { inner: LoadShed::new(ConcurrencyLimit::with_semaphore(service, permits)), domain }
    }
}

impl<S: NamedService> NamedService for Shed<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<tonic::body::Body>> for Shed<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<B>, Error = Infallible>,
    B: GrpcBody,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future =
        ShedFuture<<LoadShed<ConcurrencyLimit<S>> as Service<http::Request<tonic::body::Body>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // LoadShed is always ready: without a permit it marks the next call to be shed. It
        // fails only with its inner service's error, which cannot happen here (Infallible).
        let _ = ready!(self.inner.poll_ready(cx));
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        ShedFuture { inner: self.inner.call(request), domain: self.domain }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a [`Shed`] service: the service's, or the refusal.
    pub struct ShedFuture<F> {
        #[pin]
        inner: F,
        domain: &'static str,
    }
}

impl<F, B> Future for ShedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, tower::BoxError>>,
    B: GrpcBody,
{
    type Output = Result<http::Response<tonic::body::Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match ready!(this.inner.poll(cx)) {
            Ok(response) => response.map(tonic::body::Body::new),
            Err(err) if err.is::<Overloaded>() => {
                tracing::debug!("overloaded, call shed");
                let message = "too many calls in progress, retry later";
                crate::status::unavailable(this.domain, OVERLOADED, message, OVERLOADED_RETRY_DELAY)
                    .into_http()
            }
            // The inner service cannot fail (Infallible); should LoadShed ever report another
            // error, it is an internal one.
            Err(err) => crate::status::internal(this.domain, err.as_ref()).into_http(),
        };
        Poll::Ready(Ok(response))
    }
}
