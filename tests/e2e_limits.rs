//! The limits of one replica over real gRPC, on SQLite and on PostgreSQL: the per-org rate
//! limit, load shedding beyond the concurrency limit, the caller's deadline passed on to
//! serial-svc (shortened, or not at all when too little is left), and calls that keep
//! succeeding while connections reach their maximum age again and again.

mod support;

use std::sync::Arc;
use std::time::Duration;

use registration_svc::serial_client::DEADLINE_MARGIN;
use regserial::registration::v1::GetRegistrationRequest;
use regserial::serial::v1::{GetSerialRequest, ListProductsRequest};
use shared::clock::SystemClock;
use shared::testing::{FaultProxy, ProxyMode, TestDb};
use support::grpc::failure;
use support::recorder::Recorder;
use support::registration::*;
use support::{ORG, SerialSvc};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

shared::per_backend!(
    an_org_past_its_burst_is_rate_limited_while_other_orgs_and_health_are_not,
    a_call_beyond_the_concurrency_limit_is_shed_while_health_answers,
    the_callers_deadline_reaches_serial_svc_shortened_or_spares_it_when_too_short,
    calls_succeed_while_connections_reach_their_maximum_age_again_and_again,
);

fn flags(flags: &[&str]) -> Vec<String> {
    flags.iter().map(|s| s.to_string()).collect()
}

/// Health of the whole server at `addr` (`""`), or `None` when it does not answer.
async fn health_at(addr: std::net::SocketAddr) -> Option<ServingStatus> {
    shared::testing::health::health_at(addr).await
}

async fn an_org_past_its_burst_is_rate_limited_while_other_orgs_and_health_are_not(db: TestDb) {
    // One token every 1000 s: nothing refills during the test.
    let limits = ["--rate-limit-rps", "0.001", "--rate-limit-burst", "3"];
    let svc = SerialSvc::start_with(db, Arc::new(SystemClock), &limits).await;
    let mut acme = svc.clients(ORG).await;
    let get = || GetSerialRequest { serial_number: "NONE-1".into() };
    for _ in 0..3 {
        let status = acme.serials.get_serial(get()).await.expect_err("no such serial");
        assert_eq!(status.code(), Code::NotFound, "within the burst: {status:?}");
    }

    let refused = acme.serials.get_serial(get()).await.expect_err("over the limit");
    let f = failure(&refused);
    assert_eq!(
        (f.code, f.reason.as_str(), f.domain.as_str()),
        (Code::ResourceExhausted, "RATE_LIMITED", "serial.regserial"),
        "{refused:?}"
    );
    let wait = shared::status::retry_delay(&refused).expect("RetryInfo");
    assert!(wait > Duration::from_secs(900) && wait <= Duration::from_secs(1000), "{wait:?}");
    let retry_after: u64 =
        refused.metadata().get("retry-after").expect("retry-after").to_str().unwrap().parse().unwrap();
    assert_eq!(retry_after, shared::server::limits::retry_after_secs(wait));
    // The bucket is the org's, whichever service it calls.
    let listed = acme.catalog.list_products(ListProductsRequest::default()).await;
    assert_eq!(listed.expect_err("same org").code(), Code::ResourceExhausted);

    let mut globex = svc.clients("globex").await;
    let status = globex.serials.get_serial(get()).await.expect_err("no such serial");
    assert_eq!(status.code(), Code::NotFound, "another org has a bucket of its own: {status:?}");
    for _ in 0..10 {
        assert_eq!(svc.health("").await, Some(ServingStatus::Serving), "health is never limited");
    }
    svc.stop().await;
}

async fn a_call_beyond_the_concurrency_limit_is_shed_while_health_answers(db: TestDb) {
    // One call at a time; a claim whose answer is lost waits for serial-svc (30 s) until the
    // proxy lets go of it.
    let registration_flags = flags(&[
        "--max-concurrent-requests",
        "1",
        "--serial-deadline-ms",
        "30000",
        "--serial-attempts",
        "1",
        "--recovery-lease-ms",
        "60000",
    ]);
    let pair = Pair::start_with(db, PairOptions { registration_flags, ..Default::default() }).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["HOLD-1", "NEXT-1"]).await;
    pair.set_proxy(ProxyMode::SwallowResponses);

    // The held call, sent again should a probe below hold the only permit when it arrives.
    let mut held_client = pair.registrations(ORG);
    let held_request = create_request(registration("held@example.com", &["HOLD-1"]), Some(&new_request_id()));
    let held = tokio::spawn(async move {
        loop {
            match held_client.create_registration(held_request.clone()).await {
                Err(status) if failure(&status).reason == "OVERLOADED" => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                other => return other,
            }
        }
    });

    let probe = pair.registrations(ORG);
    let shed = eventually("a call to be shed while the held one runs", || {
        let mut probe = probe.clone();
        async move {
            let get = GetRegistrationRequest { id: uuid::Uuid::new_v4().to_string() };
            match probe.get_registration(get).await {
                Err(status) if status.code() == Code::Unavailable => Some(status),
                _ => None,
            }
        }
    })
    .await;
    let f = failure(&shed);
    assert_eq!(
        (f.code, f.reason.as_str(), f.domain.as_str()),
        (Code::Unavailable, "OVERLOADED", "registration.regserial"),
        "{shed:?}"
    );
    assert!(shared::status::retry_delay(&shed).is_some(), "OVERLOADED carries RetryInfo");
    assert_eq!(
        health_at(pair.registration_addr()).await,
        Some(ServingStatus::Serving),
        "health is never shed"
    );
    assert!(!held.is_finished(), "the held call is still running");

    // serial-svc's connection drops: the held call ends, and its permit comes back.
    pair.set_proxy(ProxyMode::Refuse);
    let status = held.await.unwrap().expect_err("serial-svc never answered");
    assert_eq!(failure(&status).reason, "DEPENDENCY_UNAVAILABLE", "{status:?}");
    pair.set_proxy(ProxyMode::Pass);
    let mut c = pair.registrations(ORG);
    register(&mut c, "next@example.com", &["NEXT-1"]).await;
    pair.stop().await;
}

fn caller_token(subject: &str) -> String {
    let scopes = support::ALL_SCOPES;
    shared::auth::mint_hs256(support::SECRET.as_bytes(), ORG, subject, scopes, Duration::from_secs(600))
        .unwrap()
}

/// A RegistrationService client at `addr` calling with `token`.
fn client(addr: std::net::SocketAddr, token: &str) -> Registrations {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect_lazy();
    let bearer = support::grpc::Bearer(Some(format!("Bearer {token}").parse().unwrap()));
    regserial::registration::v1::registration_service_client::RegistrationServiceClient::with_interceptor(
        channel, bearer,
    )
}

async fn the_callers_deadline_reaches_serial_svc_shortened_or_spares_it_when_too_short(db: TestDb) {
    let serial_db =
        if db.url.starts_with("sqlite") { TestDb::sqlite() } else { TestDb::postgres().await.unwrap() };
    let serial = SerialSvc::start(serial_db).await;
    // registration-svc -> recorder (writes down grpc-timeout) -> proxy (loses answers) -> serial-svc
    let proxy = FaultProxy::start(serial.addr).await.unwrap();
    let recorder = Recorder::start(&proxy.endpoint()).await;
    // serial-svc's own deadline (2 s) is longer than the caller's: what bounds the try is the
    // caller's deadline.
    let registration_flags =
        flags(&["--serial-deadline-ms", "2000", "--serial-attempts", "1", "--recovery-lease-ms", "2500"]);
    let registration_svc = RegistrationSvc::launch(
        "127.0.0.1:0".parse().unwrap(),
        &db.url,
        &recorder.endpoint(),
        Arc::new(SystemClock),
        &registration_flags,
    )
    .await
    .serving()
    .await;
    let services = Endpoints { serial: serial.addr, registration: registration_svc.addr };
    seed_catalog(&services, ORG).await;
    add_serials(&services, ORG, &["LATE-1", "LATE-2"]).await;
    // Each caller has a token of its own, forwarded to serial-svc: the recorder tells their
    // claims apart (and from the recovery worker's).
    let (late, hurried) = (caller_token("late-caller"), caller_token("hurried-caller"));
    proxy.set(ProxyMode::SwallowResponses);

    let caller_timeout = Duration::from_millis(1500);
    let mut request = tonic::Request::new(create_request(
        registration("late@example.com", &["LATE-1"]),
        Some(&new_request_id()),
    ));
    request.set_timeout(caller_timeout);
    let status = client(registration_svc.addr, &late)
        .create_registration(request)
        .await
        .expect_err("serial-svc never answers");
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Unavailable | Code::Cancelled),
        "{status:?}"
    );
    let claims = recorder.calls("ClaimSerial", &late);
    assert!(!claims.is_empty(), "the claim was sent");
    for claim in &claims {
        let sent = claim.timeout.expect("every claim carries grpc-timeout");
        assert!(
            sent <= caller_timeout - DEADLINE_MARGIN,
            "serial-svc was given {sent:?} of the caller's {caller_timeout:?}"
        );
    }

    // Too little left to ask serial-svc at all: no claim leaves registration-svc.
    let mut request = tonic::Request::new(create_request(
        registration("hurry@example.com", &["LATE-2"]),
        Some(&new_request_id()),
    ));
    request.set_timeout(Duration::from_millis(120));
    let status =
        client(registration_svc.addr, &hurried).create_registration(request).await.expect_err("no time");
    // Ours (DEADLINE_EXCEEDED), or tonic's own timeout (CANCELLED) should the database be slower.
    match status.code() {
        Code::DeadlineExceeded => {
            let f = failure(&status);
            assert_eq!(
                (f.reason.as_str(), f.domain.as_str()),
                ("DEADLINE_EXCEEDED", "registration.regserial")
            );
        }
        code => assert_eq!(code, Code::Cancelled, "{status:?}"),
    }
    assert!(recorder.calls("ClaimSerial", &hurried).is_empty(), "serial-svc was not called");

    // The attempts cut short are recovered by the worker. (Refuse first: it closes the
    // connection whose answers were lost mid-stream, which HTTP/2 cannot resume.)
    proxy.set(ProxyMode::Refuse);
    proxy.set(ProxyMode::Pass);
    assert_invariants(&services, ORG).await;
    registration_svc.stop().await;
    serial.stop().await;
}

async fn calls_succeed_while_connections_reach_their_maximum_age_again_and_again(db: TestDb) {
    // serial-svc's connections age out: registration-svc's client reconnects, and a call it
    // sent just as a connection closed (one the server never saw) is tried again. (A plain
    // tonic client would see that call fail with CANCELLED: see the operator notes.)
    let options =
        PairOptions { serial_flags: flags(&["--max-connection-age", "150ms"]), ..Default::default() };
    let pair = Pair::start_with(db, options).await;
    seed_catalog(&pair, ORG).await;
    let numbers: Vec<String> = (0..300).map(|i| format!("AGE-{i}")).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    add_serials(&pair, ORG, &numbers).await;
    let mut c = pair.registrations(ORG);

    // registration-svc reaches serial-svc through the proxy: each new connection is one the
    // client made after serial-svc told the previous one to go.
    let first = pair.proxy.connections();
    let mut made = 0;
    while pair.proxy.connections() < first + 4 {
        assert!(made < numbers.len(), "{made} calls and the connections never aged out");
        let create =
            create_request(registration("age@example.com", &[numbers[made]]), Some(&new_request_id()));
        c.create_registration(create).await.unwrap_or_else(|status| panic!("call {made} failed: {status:?}"));
        made += 1;
    }
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
