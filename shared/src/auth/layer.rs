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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tower::ServiceExt;

    use super::*;
    use crate::auth::{Principal, Scope, mint_hs256};

    const SECRET: &[u8] = b"layer-test-secret";

    struct Named;

    impl NamedService for Named {
        const NAME: &'static str = "regserial.test.v1.TestService";
    }

    fn request(authorization: Option<String>) -> http::Request<tonic::body::Body> {
        let mut request = http::Request::new(tonic::body::Body::empty());
        if let Some(value) = authorization {
            request.headers_mut().insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        request
    }

    #[tokio::test]
    async fn the_wrapped_service_sees_the_principal_and_refused_calls_never_reach_it() {
        let reached = Arc::new(AtomicUsize::new(0));
        let counter = reached.clone();
        // What a per-org layer between auth and the generated service does: read the principal.
        let inner = tower::service_fn(move |request: http::Request<tonic::body::Body>| {
            let counter = counter.clone();
            async move {
                let principal = request.extensions().get::<Principal>().expect("a principal").clone();
                counter.fetch_add(1, Ordering::SeqCst);
                let mut response = http::Response::new(tonic::body::Body::empty());
                response.headers_mut().insert("x-org", principal.org.parse().unwrap());
                Ok::<_, Infallible>(response)
            }
        });
        let auth = Authenticator::hs256(SECRET, "test.regserial");
        let service = auth.layer().layer(inner);
        assert_eq!(<Authenticated<Named> as NamedService>::NAME, Named::NAME);

        let token = mint_hs256(SECRET, "acme", "u1", &[Scope::SerialsRead], Duration::from_secs(60)).unwrap();
        let response = service.clone().oneshot(request(Some(format!("Bearer {token}")))).await.unwrap();
        assert_eq!(response.headers()["x-org"], "acme");
        assert_eq!(reached.load(Ordering::SeqCst), 1);

        for refused in [None, Some("Bearer not-a-jwt".to_owned())] {
            let response = service.clone().oneshot(request(refused)).await.unwrap();
            let status = tonic::Status::from_header_map(response.headers()).expect("a grpc status");
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
        }
        assert_eq!(reached.load(Ordering::SeqCst), 1, "refused calls never reach the service");
    }
}
