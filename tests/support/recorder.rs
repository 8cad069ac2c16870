//! A gRPC proxy in front of serial-svc that writes down, for each call passing through it, the
//! method and the `grpc-timeout` it carried: what serial-svc was told of the caller's deadline.
//! Calls are forwarded over a tonic channel to `target` (a [`shared::testing::FaultProxy`] in
//! front of serial-svc, say, to make serial-svc's answers late).

use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use regserial::serial::v1::catalog_service_server::SERVICE_NAME as CATALOG_SERVICE;
use regserial::serial::v1::serial_service_server::SERVICE_NAME as SERIAL_SERVICE;
use tokio::task::JoinHandle;
use tonic::server::NamedService;
use tonic::transport::{Channel, Server};
use tower::{Service, ServiceExt};

/// One call as it reached the recorder.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The method, such as `/regserial.serial.v1.SerialService/ClaimSerial`.
    pub path: String,
    /// Its `grpc-timeout`, read as serial-svc reads it.
    pub timeout: Option<Duration>,
    /// Its `authorization` header: whose call it is (the caller's token, forwarded, or the
    /// recovery worker's own).
    pub authorization: Option<String>,
}

/// The running recorder; stops when dropped.
pub struct Recorder {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Recorder {
    /// Serves on 127.0.0.1:0, forwarding to `target` (`http://host:port`).
    pub async fn start(target: &str) -> Recorder {
        let channel = Channel::from_shared(target.to_owned()).unwrap().connect_lazy();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let serials = Forward::<Serials> { channel: channel.clone(), seen: seen.clone(), name: PhantomData };
        let catalog = Forward::<Catalog> { channel, seen: seen.clone(), name: PhantomData };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let server =
            Server::builder().add_service(serials).add_service(catalog).serve_with_incoming(incoming);
        let task = tokio::spawn(async move {
            let _ = server.await;
        });
        Recorder { addr, seen, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The calls of `method` (such as `ClaimSerial`) made with `token` seen so far.
    pub fn calls(&self, method: &str, token: &str) -> Vec<Seen> {
        let suffix = format!("/{method}");
        let authorization = format!("Bearer {token}");
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|s| {
                s.path.ends_with(&suffix) && s.authorization.as_deref() == Some(authorization.as_str())
            })
            .cloned()
            .collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the gRPC service `N` names by forwarding each call.
struct Forward<N> {
    channel: Channel,
    seen: Arc<Mutex<Vec<Seen>>>,
    name: PhantomData<fn() -> N>,
}

impl<N> Clone for Forward<N> {
    fn clone(&self) -> Self {
        Self { channel: self.channel.clone(), seen: self.seen.clone(), name: PhantomData }
    }
}

trait ServiceName {
    const NAME: &'static str;
}

struct Serials;
struct Catalog;

impl ServiceName for Serials {
    const NAME: &'static str = SERIAL_SERVICE;
}

impl ServiceName for Catalog {
    const NAME: &'static str = CATALOG_SERVICE;
}

impl<N: ServiceName> NamedService for Forward<N> {
    const NAME: &'static str = N::NAME;
}

impl<N> Service<http::Request<tonic::body::Body>> for Forward<N> {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let timeout = shared::server::deadline::grpc_timeout(request.headers());
        let path = request.uri().path().to_owned();
        let authorization =
            request.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        self.seen.lock().unwrap().push(Seen { path, timeout, authorization });
        let channel = self.channel.clone();
        Box::pin(async move {
            match channel.oneshot(request).await {
                Ok(response) => Ok(response.map(tonic::body::Body::new)),
                Err(err) => Ok(tonic::Status::unavailable(format!("recorder: {err}")).into_http()),
            }
        })
    }
}
