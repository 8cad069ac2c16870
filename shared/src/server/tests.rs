//! The server over real gRPC on 127.0.0.1:0: health, reflection, an authenticated service,
//! and shutdown.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1alpha::{ServerReflectionRequest, ServerReflectionResponse};

use super::*;
use crate::auth::{Authenticator, Scope, mint_hs256};

const GUARDED: &str = "test.v1.Guarded";
const SECRET: &[u8] = b"server-test-secret";

/// The health service under another name, so it can be served a second time behind auth.
#[derive(Clone)]
struct Renamed<S>(S);

impl<S: NamedService> NamedService for Renamed<S> {
    const NAME: &'static str = GUARDED;
}

impl<S, B> tower::Service<http::Request<B>> for Renamed<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> S::Future {
        let path = request.uri().path().replacen(GUARDED, "grpc.health.v1.Health", 1);
        *request.uri_mut() = http::Uri::try_from(path).unwrap_or_default();
        self.0.call(request)
    }
}

struct Running {
    health: Health,
    channel: Channel,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

async fn start(grace: Duration) -> Running {
    crate::telemetry::init_for_tests();
    let (health, _) = Health::new(&["regserial.serial.v1.SerialService"]);
    let listener = Listener::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr());
    let guarded = Authenticator::hs256(SECRET, "test.regserial").wrap(Renamed(health.service()));
    let builder =
        ServerBuilder::new(&health, &[regserial::FILE_DESCRIPTOR_SET]).unwrap().add_service(guarded);
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(builder.serve(listener, shutdown, grace));
    let channel = Channel::from_shared(endpoint).unwrap().connect().await.unwrap();
    Running { health, channel, stop: Some(stop), task }
}

impl Running {
    async fn check(&self, service: &str) -> Result<ServingStatus, Code> {
        let request = HealthCheckRequest { service: service.into() };
        let reply = HealthClient::new(self.channel.clone()).check(request).await.map_err(|s| s.code())?;
        Ok(ServingStatus::try_from(reply.into_inner().status).unwrap())
    }

    /// Sends the shutdown signal and waits (bounded) for `serve` to return.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let finished = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        finished.expect("serve returns after shutdown").unwrap().expect("serve succeeds");
        assert_eq!(self.health.status(""), Some(ServingStatus::NotServing));
    }
}

#[tokio::test]
async fn health_starts_not_serving_turns_serving_and_shutdown_completes() {
    let server = start(Duration::from_secs(5)).await;
    assert_eq!(server.check("").await, Ok(ServingStatus::NotServing));
    assert_eq!(server.check("regserial.serial.v1.SerialService").await, Ok(ServingStatus::NotServing));
    assert_eq!(server.check("no.such.Service").await, Err(Code::NotFound));

    server.health.set_serving(true).await;
    assert_eq!(server.check("").await, Ok(ServingStatus::Serving));
    assert_eq!(server.check("regserial.serial.v1.SerialService").await, Ok(ServingStatus::Serving));

    // An open health watch must not hold the drain up.
    let request = HealthCheckRequest { service: String::new() };
    let mut watch = HealthClient::new(server.channel.clone()).watch(request).await.unwrap().into_inner();
    assert_eq!(watch.next().await.unwrap().unwrap().status, ServingStatus::Serving as i32);
    server.stop().await;
}

#[tokio::test]
async fn reflection_v1alpha_lists_services_and_serves_error_detail_descriptors() {
    let server = start(Duration::from_secs(5)).await;
    let mut client = ServerReflectionClient::new(server.channel.clone());
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol("google.rpc.ErrorInfo".into()),
        MessageRequest::FileContainingSymbol("grpc.health.v1.Health".into()),
    ]
    .map(|message| ServerReflectionRequest { host: String::new(), message_request: Some(message) });
    let replies: Vec<ServerReflectionResponse> = client
        .server_reflection_info(futures::stream::iter(requests))
        .await
        .unwrap()
        .into_inner()
        .map(|reply| reply.unwrap())
        .collect()
        .await;
    let Some(MessageResponse::ListServicesResponse(list)) = &replies[0].message_response else {
        panic!("{:?}", replies[0])
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "regserial.serial.v1.SerialService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    for reply in &replies[1..] {
        assert!(
            matches!(reply.message_response, Some(MessageResponse::FileDescriptorResponse(_))),
            "{reply:?}"
        );
    }
    server.stop().await;
}

async fn guarded_check(
    channel: Channel,
    header: Option<String>,
) -> Result<HealthCheckResponse, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
    if let Some(header) = header {
        request.metadata_mut().insert("authorization", header.parse().unwrap());
    }
    let path = http::uri::PathAndQuery::try_from(format!("/{GUARDED}/Check")).unwrap();
    let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
    grpc.unary(request, path, codec).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn intercepted_services_require_a_token_while_health_does_not() {
    let server = start(Duration::from_secs(5)).await;
    let err = guarded_check(server.channel.clone(), None).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::Unauthenticated, "missing authorization header"));
    let token = mint_hs256(SECRET, "acme", "tester", &[Scope::SerialsRead], Duration::from_secs(60)).unwrap();
    let reply = guarded_check(server.channel.clone(), Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(reply.status, ServingStatus::NotServing as i32);
    server.stop().await;
}

#[tokio::test]
async fn a_call_that_outlives_the_shutdown_grace_does_not_block_shutdown() {
    let server = start(Duration::from_millis(200)).await;
    // A reflection stream whose client keeps its side open never ends by itself.
    let (keep_open, requests) = futures::channel::mpsc::unbounded::<ServerReflectionRequest>();
    let mut client = ServerReflectionClient::new(server.channel.clone());
    let response = client.server_reflection_info(requests).await.expect("the call is running on the server");
    let started = tokio::time::Instant::now();
    server.stop().await;
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    drop((keep_open, response));
}
