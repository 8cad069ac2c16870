//! `app::serve` on 127.0.0.1:0: readiness, auth on the wire, message limits, graceful stop.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use regserial::serial::v1 as pb;
use serial_svc::app::{self, Config};
use shared::auth::Scope;
use shared::clock::SystemClock;
use shared::server::Listener;
use shared::testing::TestDb;
use shared::testing::health::{health, wait_for};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};
use tonic_health::pb::health_check_response::ServingStatus;

const SECRET: &str = "serve-test-secret";

/// Polls health until `service` is SERVING (bounded, no fixed sleeps as synchronisation).
async fn wait_until_serving(channel: Channel, service: &str) {
    wait_for(service, ServingStatus::Serving, || health(channel.clone(), service)).await;
}

fn authorized<T>(message: T) -> Request<T> {
    let token =
        shared::auth::mint_hs256(SECRET.as_bytes(), "acme", "tester", &Scope::ALL, Duration::from_secs(600))
            .expect("mint a token");
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ascii header"));
    request
}

#[tokio::test]
async fn serve_answers_authenticated_calls_once_ready_and_stops_on_shutdown() {
    shared::telemetry::init_for_tests();
    let db = TestDb::sqlite();
    let args = ["serial-svc", "--listen", "127.0.0.1:0", "--database-url", &db.url, "--jwt-secret", SECRET];
    let config = Config::try_parse_from(args).expect("valid flags");
    let listener = Listener::bind(config.listen).await.expect("bind");
    let addr = listener.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let clock = Arc::new(SystemClock);
    let server = tokio::spawn(app::serve(config, listener, clock, async {
        let _ = stopped.await;
    }));

    let channel = Endpoint::from_shared(format!("http://{addr}")).expect("endpoint").connect_lazy();
    wait_until_serving(channel.clone(), "regserial.serial.v1.SerialService").await;
    wait_until_serving(channel.clone(), "regserial.serial.v1.CatalogService").await;
    let mut serials = regserial::client::serial_service(channel.clone());

    let get = || pb::GetSerialRequest { serial_number: "SN-1".into() };
    let status = serials.get_serial(Request::new(get())).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = serials.get_serial(authorized(get())).await.unwrap_err();
    assert_eq!(shared::status::error_reason(&status).as_deref(), Some("SERIAL_NOT_FOUND"));

    // Over 4 MiB (tonic's default limit) yet under 16 MiB: the service's own refusal comes back.
    let tags: Vec<String> = (0..6).map(|i| format!("{i}{}", "t".repeat(63))).collect();
    let serials_in = (0..10_001)
        .map(|i| pb::Serial {
            serial_number: format!("{i:0>64}"),
            customer_tags: tags.clone(),
            ..Default::default()
        })
        .collect();
    let batch =
        pb::BatchCreateSerialsRequest { serials: serials_in, atomic: false, request_id: String::new() };
    let status = serials.batch_create_serials(authorized(batch)).await.unwrap_err();
    assert_eq!(shared::status::error_reason(&status).as_deref(), Some("BATCH_TOO_LARGE"), "{status:?}");

    stop.send(()).expect("the server is running");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve returns after shutdown")
        .expect("serve does not panic")
        .expect("serve ends cleanly");
}
