//! Authentication as a tower layer around a generated gRPC service: the bearer token of each
//! call is verified (asynchronously when a JWK set must be refreshed first, see
//! [`Authenticator::authenticate_refreshing`]), the [`Principal`](super::Principal) is put in
//! the request's extensions, and only then does the wrapped service run. A refused call is
//! answered UNAUTHENTICATED without reaching it.
//!
//! Anything wrapped inside (a per-org rate limit, say) sees the principal in
//! `http::Request::extensions()`:
//!
//! ```ignore
//! router.add_service(authenticator.wrap(per_org_limit.layer(api.serial_service())))
//! ```

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Either, Ready, ready};
use tonic::server::NamedService;
use tower::{Layer, Service};
use tower_http::auth::{AsyncAuthorizeRequest, AsyncRequireAuthorization};

use super::Authenticator;

type Authorized<B> = Result<http::Request<B>, http::Response<tonic::body::Body>>;

impl<B: Send + 'static> AsyncAuthorizeRequest<B> for Authenticator {
    type RequestBody = B;
    type ResponseBody = tonic::body::Body;
    type Future = Either<Ready<Authorized<B>>, BoxFuture<'static, Authorized<B>>>;

    fn authorize(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The common case, a known key (or a token seen before), needs no allocation.
        let refusal = match self.verify(request.headers().get(http::header::AUTHORIZATION)) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                return Either::Left(ready(Ok(request)));
            }
            Err(refusal) => refusal,
        };
        if !refusal.unknown_key {
            return Either::Left(ready(Err(self.refuse(refusal).into_http())));
        }
        let auth = self.clone();
        Either::Right(Box::pin(async move {
            let header = request.headers().get(http::header::AUTHORIZATION).cloned();
            match auth.authenticate_refreshing(header.as_ref()).await {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    Ok(request)
                }
                Err(status) => Err(status.into_http()),
            }
        }))
    }
}

impl Authenticator {
    /// `service`, answering only calls whose token this authenticator accepts.
    pub fn wrap<S>(&self, service: S) -> Authenticated<S> {
        Authenticated { inner: AsyncRequireAuthorization::new(service, self.clone()) }
    }

    /// The tower layer of [`Authenticator::wrap`].
    pub fn layer(&self) -> AuthLayer {
        AuthLayer(self.clone())
    }
}

/// A tower layer wrapping services in [`Authenticated`].
#[derive(Clone, Debug)]
pub struct AuthLayer(Authenticator);

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticated<S>;

    fn layer(&self, service: S) -> Authenticated<S> {
        self.0.wrap(service)
    }
}

/// A gRPC service whose calls are authenticated first; keeps the service's name, so that it can
/// be added to a tonic router.
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: AsyncRequireAuthorization<S, Authenticator>,
}

impl<S, B> Service<http::Request<B>> for Authenticated<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>, Error = Infallible> + Clone,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = <AsyncRequireAuthorization<S, Authenticator> as Service<http::Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.inner.call(request)
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}
