//! The bounds a gRPC service meets wherever the server wraps or routes it: it never fails (its
//! errors are gRPC answers) and its response body is one tonic can box.

use std::convert::Infallible;

use tonic::server::NamedService;
use tower::Service;

/// The response body of a gRPC service that tonic's router and [`tonic::body::Body::new`] take.
pub trait GrpcBody:
    http_body::Body<Data = bytes::Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}

impl<B> GrpcBody for B where
    B: http_body::Body<Data = bytes::Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static
{
}

/// A generated gRPC server (plain, intercepted or wrapped) as the router takes it, answering
/// with bodies of type `B`.
pub trait RoutableService<B>:
    Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<B>,
        Error = Infallible,
        Future: Send + 'static,
    > + NamedService
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S, B> RoutableService<B> for S where
    S: Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + NamedService
        + Clone
        + Send
        + Sync
        + 'static
{
}
