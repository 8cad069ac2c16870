//! A serial-svc API on a fresh SQLite database with a manual clock, and helpers to build
//! authorized requests and read error details.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use regserial::serial::v1 as pb;
use regserial::serial::v1::serial_service_server::SerialService;
use serial_svc::grpc::{Api, DOMAIN};
use serial_svc::store::{ServiceStore, Store};
use shared::auth::{Principal, Scope};
use shared::clock::ManualClock;
use shared::paging::PageTokens;
use shared::testing::TestDb;
use tonic::Request;

pub const ORG: &str = "acme";
pub const OTHER_ORG: &str = "globex";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

pub struct Harness {
    pub api: Api,
    pub clock: Arc<ManualClock>,
    _db: TestDb,
}

pub async fn harness() -> Harness {
    shared::telemetry::init_for_tests();
    let db = TestDb::sqlite();
    let store = Store::new(shared::db::connect(&db.url, 4).await.expect("open the test database"));
    store.migrate().await.expect("migrations apply");
    let clock = Arc::new(ManualClock::new(t0()));
    let api = Api::new(store, clock.clone(), PageTokens::new(b"handler-test-page-token-key"));
    Harness { api, clock, _db: db }
}

/// `message` as sent by `org`'s user holding `scopes`.
pub fn as_org<T>(org: &str, scopes: &[Scope], message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(Principal::for_tests(org, "alice", scopes));
    request
}

/// `message` from a user of [`ORG`] who may read and write serials.
pub fn writer<T>(message: T) -> Request<T> {
    as_org(ORG, &[Scope::SerialsRead, Scope::SerialsWrite], message)
}

/// `message` from a user of [`ORG`] who may only read serials.
pub fn reader<T>(message: T) -> Request<T> {
    as_org(ORG, &[Scope::SerialsRead], message)
}

pub fn item(number: &str) -> pb::Serial {
    pb::Serial { serial_number: number.into(), ..Default::default() }
}

/// Creates `numbers` in [`ORG`], all or nothing.
pub async fn seed(api: &Api, numbers: &[&str]) {
    let serials = numbers.iter().map(|n| item(n)).collect();
    let request = pb::BatchCreateSerialsRequest { serials, atomic: true, request_id: String::new() };
    let created = api.batch_create_serials(writer(request)).await.expect("seed serials").into_inner();
    assert_eq!(created.serials.len(), numbers.len());
}

shared::status_checks!(DOMAIN);

/// `message` from registration-svc acting for a user of [`ORG`] (`registrations:write` only).
pub fn registrar<T>(message: T) -> Request<T> {
    as_org(ORG, &[Scope::RegistrationsWrite], message)
}

/// `message` from a user of [`OTHER_ORG`] who may read and write serials.
pub fn other_org<T>(message: T) -> Request<T> {
    as_org(OTHER_ORG, &[Scope::SerialsRead, Scope::SerialsWrite], message)
}
