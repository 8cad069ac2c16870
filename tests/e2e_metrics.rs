//! Metrics end to end: both services with `--metrics-listen 127.0.0.1:0`, known traffic, and
//! `GET /metrics` scraped over HTTP, on SQLite and on PostgreSQL.
//!
//! The `metrics` recorder is global to a process, so both services of a test, and the tests of
//! this binary, record into one registry (each service's endpoint renders it all). The tests
//! therefore take turns ([`ONE_AT_A_TIME`]) and assert on the difference between a scrape
//! before their traffic and one after it: exact counts, whatever ran before.

mod support;

use regserial::serial::v1::{GetSerialRequest, ImportJobState, ValidateSerialRequest};
use shared::testing::{ProxyMode, TestDb};
use support::grpc::Clients;
use support::import::*;
use support::registration::*;
use support::scrape::{Samples, scrape};
use support::{ALL_SCOPES, ORG};
use tonic::Code;
use tonic::transport::Channel;

shared::per_backend!(
    a_scrape_shows_the_exact_calls_by_method_and_code,
    pool_and_saga_gauges_are_served,
    imported_rows_are_counted_once_by_outcome,
);

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SERIALS: &str = "regserial.serial.v1.SerialService";
const REGISTRATIONS: &str = "regserial.registration.v1.RegistrationService";

async fn start(db: TestDb) -> Pair {
    let metrics = vec!["--metrics-listen".to_owned(), "127.0.0.1:0".to_owned()];
    let options =
        PairOptions { registration_flags: metrics.clone(), serial_flags: metrics, ..PairOptions::default() };
    Pair::start_with(db, options).await
}

/// `name`'s sample for `labels` in `after` less the one in `before`.
fn delta(before: &Samples, after: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

async fn a_scrape_shows_the_exact_calls_by_method_and_code(db: TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let pair = start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["M-1"]).await;
    let (serial_metrics, registration_metrics) = pair.metrics_addrs().await;
    let (content_type, before) = scrape(serial_metrics).await;
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");

    let mut c = pair.serials(ORG);
    for number in ["M-1", "M-404", "M-405"] {
        let validate = ValidateSerialRequest { serial_number: number.into() };
        c.serials.validate_serial(validate).await.expect("ValidateSerial is always OK");
    }
    for number in ["M-404", "M-405"] {
        let get = GetSerialRequest { serial_number: number.into() };
        assert_eq!(c.serials.get_serial(get).await.unwrap_err().code(), Code::NotFound);
    }
    let mut r = pair.registrations(ORG);
    r.create_registration(create_request(registration("ada@example.com", &["M-1"]), None)).await.unwrap();
    let again = r.create_registration(create_request(registration("bob@example.com", &["M-1"]), None)).await;
    assert_eq!(again.unwrap_err().code(), Code::FailedPrecondition);

    let (_, after) = scrape(serial_metrics).await;
    let handled = "grpc_server_handled_total";
    let server = |service, method, code| {
        delta(
            &before,
            &after,
            handled,
            &[("grpc_service", service), ("grpc_method", method), ("grpc_code", code)],
        )
    };
    assert_eq!(server(SERIALS, "ValidateSerial", "OK"), 3.0);
    assert_eq!(server(SERIALS, "GetSerial", "NotFound"), 2.0);
    assert_eq!(server(SERIALS, "GetSerial", "OK"), 0.0);
    assert_eq!(server(SERIALS, "ClaimSerial", "OK"), 1.0);
    assert_eq!(server(SERIALS, "ClaimSerial", "FailedPrecondition"), 1.0);
    assert_eq!(server(REGISTRATIONS, "CreateRegistration", "OK"), 1.0);
    assert_eq!(server(REGISTRATIONS, "CreateRegistration", "FailedPrecondition"), 1.0);
    let by_method = |name, service, method| {
        delta(&before, &after, name, &[("grpc_service", service), ("grpc_method", method)])
    };
    assert_eq!(by_method("grpc_server_started_total", SERIALS, "ValidateSerial"), 3.0);
    assert_eq!(by_method("grpc_server_handling_seconds_count", SERIALS, "ValidateSerial"), 3.0);
    assert_eq!(by_method("grpc_server_handling_seconds_count", SERIALS, "GetSerial"), 2.0);
    let every_call = delta(
        &before,
        &after,
        "grpc_server_handling_seconds_bucket",
        &[("grpc_service", SERIALS), ("grpc_method", "ValidateSerial"), ("le", "+Inf")],
    );
    assert_eq!(every_call, 3.0);

    // registration-svc's calls to serial-svc, from its own endpoint (the same registry).
    let (_, client) = scrape(registration_metrics).await;
    let claims = |code| {
        delta(
            &before,
            &client,
            "grpc_client_handled_total",
            &[("grpc_service", SERIALS), ("grpc_method", "ClaimSerial"), ("grpc_code", code)],
        )
    };
    assert_eq!(claims("OK"), 1.0);
    assert_eq!(claims("FailedPrecondition"), 1.0);
    assert_eq!(by_method_of(&before, &client, "grpc_client_started_total", "ClaimSerial"), 2.0);
    assert_eq!(by_method_of(&before, &client, "grpc_client_handling_seconds_count", "ClaimSerial"), 2.0);
    pair.stop().await;
}

fn by_method_of(before: &Samples, after: &Samples, name: &str, method: &str) -> f64 {
    delta(before, after, name, &[("grpc_service", SERIALS), ("grpc_method", method)])
}

async fn pool_and_saga_gauges_are_served(db: TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let sqlite = db.url.starts_with("sqlite");
    let pair = start(db).await;
    let (serial_metrics, registration_metrics) = pair.metrics_addrs().await;
    let pools: &[&str] = if sqlite { &["writer", "reader"] } else { &["main"] };
    for (addr, service) in [(serial_metrics, "serial-svc"), (registration_metrics, "registration-svc")] {
        let (_, samples) = scrape(addr).await;
        for pool in pools {
            let labels = [("service", service), ("pool", *pool)];
            let max = samples.get("db_pool_max_connections", &labels).expect("the pool's size limit");
            let open = samples.get("db_pool_connections", &labels).expect("the pool's connections");
            let idle = samples.get("db_pool_idle_connections", &labels).expect("the pool's idle connections");
            assert!(
                max >= 1.0 && open <= max && idle <= open,
                "{service} {pool}: {open} open, {idle} idle, {max} max"
            );
        }
        if sqlite {
            assert_eq!(
                samples.get("db_pool_max_connections", &[("service", service), ("pool", "writer")]),
                Some(1.0)
            );
        }
    }
    // The saga's backlog is read when registration-svc becomes ready, then every 10 s: nothing
    // is open on a fresh database.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, samples) = scrape(registration_metrics).await;
        if let Some(open) = samples.get("registration_claim_attempts_open", &[]) {
            assert_eq!(open, 0.0);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no registration_claim_attempts_open gauge");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    pair.stop().await;
}

/// `serial_import_rows_total` moves by each committed batch: an import cut off after its first
/// batch and resumed, then sent again whole once it has succeeded, counts each row once.
async fn imported_rows_are_counted_once_by_outcome(db: TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let pair = start(db).await;
    let mut c = pair.serials(ORG);
    import_catalog(&mut c).await;
    let (serial_metrics, _) = pair.metrics_addrs().await;
    let (_, before) = scrape(serial_metrics).await;
    // 25,000 valid rows over three batches, with a repeat in a later batch and two bad rows.
    let file =
        format!("{FULL_HEADER}{}SN-0000007,,,,,,\nbad one,,,,,,\nX-1,NOPE,,,,,\n", valid_rows(0, 25_000));
    // Half the file through the proxy to serial-svc, which then cuts the connection.
    let channel = Channel::from_shared(pair.proxy.endpoint()).unwrap().connect().await.unwrap();
    let through_proxy = Clients::new(channel, Pair::token(ORG, ALL_SCOPES));
    let (tx, call) = open_upload(&through_proxy, "counted-1");
    for message in messages("", &file.as_bytes()[..file.len() / 2], 16 * 1024).into_iter().skip(1) {
        tx.send(message).await.expect("the upload is open");
    }
    job_until(&mut c, "counted-1", "a committed batch", |j| j.rows_read > 0).await;
    pair.proxy.set(ProxyMode::Refuse);
    assert!(call.await.unwrap().is_err(), "the cut upload is not answered with success");
    drop(tx);
    let cut =
        job_until(&mut c, "counted-1", "the cut job to stop", |j| j.state() != ImportJobState::Running).await;
    assert_eq!(cut.state(), ImportJobState::Failed, "{cut:?}");
    let job = import(&mut c, "counted-1", file.as_bytes(), 64 * 1024).await;
    assert_eq!(job.state(), ImportJobState::Succeeded, "{job:?}");
    assert_eq!((job.rows_read, job.rows_created, job.rows_failed), (25_003, 25_000, 3), "{job:?}");
    let again =
        upload(&mut c, "counted-1", file.as_bytes(), 64 * 1024).await.expect("a finished job answers");
    assert_eq!(again.state(), ImportJobState::Succeeded, "a finished job is not run again");

    let (_, after) = scrape(serial_metrics).await;
    let rows = |outcome| delta(&before, &after, "serial_import_rows_total", &[("outcome", outcome)]);
    assert_eq!(rows("created"), 25_000.0);
    assert_eq!(rows("failed"), 3.0);
    pair.stop().await;
}
