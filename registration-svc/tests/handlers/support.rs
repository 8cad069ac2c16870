//! A registration-svc API on a fresh database with a manual clock and an unreachable
//! serial-svc, registrations made through the store directly (as if serial-svc granted every
//! claim), and helpers to build authorized requests and read error details.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use registration_svc::domain::{
    Ctx, LineItemDraft, NewRegistration, Registration, RegistrationDraft, SerialPlans,
};
use registration_svc::grpc::{Api, DOMAIN};
use registration_svc::ops::Saga;
use registration_svc::serial_client::{CallPolicy, SerialClient};
use registration_svc::store::{ServiceStore, Store};
use regserial::registration::v1 as pb;
use shared::auth::{Principal, Scope};
use shared::clock::ManualClock;
use shared::paging::PageTokens;
use shared::testing::TestDb;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

pub const ORG: &str = "acme";
pub const OTHER_ORG: &str = "globex";
/// Nothing listens there: every call to serial-svc fails at once as unavailable.
const NO_SERIAL_SVC: &str = "http://127.0.0.1:1";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// `t0` plus `secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

pub struct Harness {
    pub api: Api,
    pub store: Store,
    pub clock: Arc<ManualClock>,
}

pub async fn harness(db: &TestDb) -> Harness {
    shared::telemetry::init_for_tests();
    let store = Store::new(shared::db::connect(&db.url, 4).await.expect("open the test database"));
    store.migrate().await.expect("migrations apply");
    let policy = CallPolicy { deadline: Duration::from_millis(500), attempts: 1, ..CallPolicy::default() };
    let serials = SerialClient::connect_lazy(NO_SERIAL_SVC, policy).expect("a serial-svc client");
    let clock = Arc::new(ManualClock::new(t0()));
    let tokens = PageTokens::new(b"handler-test-page-token-key");
    let api = Api::new(Saga::new(store.clone(), serials), clock.clone(), tokens);
    Harness { api, store, clock }
}

/// `message` as sent by `org`'s user holding `scopes`.
pub fn as_org<T>(org: &str, scopes: &[Scope], message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(Principal::for_tests(org, "alice", scopes));
    request
}

/// `message` from a user of [`ORG`] who may create and change registrations.
pub fn writer<T>(message: T) -> Request<T> {
    as_org(ORG, &[Scope::RegistrationsWrite], message)
}

/// `message` from a user of [`ORG`] who may only read registrations.
pub fn reader<T>(message: T) -> Request<T> {
    as_org(ORG, &[Scope::RegistrationsRead], message)
}

/// `message` from a user of [`ORG`] who may only review registrations.
pub fn reviewer<T>(message: T) -> Request<T> {
    as_org(ORG, &[Scope::RegistrationsReview], message)
}

/// `message` from a user of [`OTHER_ORG`] holding every scope.
pub fn other_org<T>(message: T) -> Request<T> {
    as_org(OTHER_ORG, &Scope::ALL, message)
}

/// A valid registration to create, one line item per serial.
pub fn input(serials: &[&str]) -> pb::Registration {
    pb::Registration {
        customer_email: "ada@example.com".into(),
        customer_name: "Ada Lovelace".into(),
        line_items: serials
            .iter()
            .map(|s| pb::LineItem { quantity: 1, serial_number: (*s).into(), ..Default::default() })
            .collect(),
        ..Default::default()
    }
}

pub fn create(registration: pb::Registration) -> pb::CreateRegistrationRequest {
    pb::CreateRegistrationRequest { registration: Some(registration), request_id: String::new() }
}

/// A registration draft for the store, one line item per serial.
pub fn draft(serials: &[&str]) -> RegistrationDraft {
    RegistrationDraft {
        customer_email: "ada@example.com".into(),
        customer_name: "Ada Lovelace".into(),
        line_items: serials
            .iter()
            .map(|s| LineItemDraft { quantity: 1, serial_number: (*s).into(), ..LineItemDraft::default() })
            .collect(),
        ..RegistrationDraft::default()
    }
}

/// Registers `draft` in `org` at `now` through the store, as if serial-svc granted every claim
/// (warranties from `plans`).
pub async fn register_draft(
    store: &Store,
    org: &str,
    now: DateTime<Utc>,
    draft: &RegistrationDraft,
    plans: &SerialPlans,
) -> Registration {
    let ctx = Ctx { org, actor: "alice", now };
    let new = NewRegistration::parse(draft).expect("a valid registration");
    let attempt = store.begin_attempt(&ctx, None, &new).await.expect("begin").into_inner();
    let requested = new.requested(&attempt.id, org, now);
    store.complete_registration(&ctx, &requested, plans).await.expect("complete")
}

/// Registers `serials` in [`ORG`] at `now`.
pub async fn register(store: &Store, now: DateTime<Utc>, serials: &[&str]) -> Registration {
    register_draft(store, ORG, now, &draft(serials), &SerialPlans::new()).await
}

shared::status_checks!(DOMAIN);

/// The ErrorInfo metadata value `key`.
pub fn metadata(status: &Status, key: &str) -> String {
    let info = status.get_error_details().error_info().cloned().expect("an ErrorInfo");
    info.metadata.get(key).cloned().unwrap_or_else(|| panic!("no {key} in {:?}", info.metadata))
}

/// Checks that `status` is FAILED_PRECONDITION `INVALID_STATE_TRANSITION` with a
/// PreconditionFailure.
pub fn assert_invalid_transition(status: &Status) {
    assert_eq!(reason(status, Code::FailedPrecondition), "INVALID_STATE_TRANSITION");
    assert!(status.get_error_details().precondition_failure().is_some(), "{status:?}");
}
