//! A service answering every call with an empty 200: what the server's own layers are tested
//! in front of.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::{Ready, ready};
use tower::Service;

#[derive(Clone)]
pub(crate) struct Echo;

impl Service<http::Request<tonic::body::Body>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
        ready(Ok(http::Response::new(tonic::body::Body::default())))
    }
}
