//! The bodies of the store conformance tests, written once for every backend.

mod creation;
mod intents;
mod listing;
mod races;
mod reads;
mod requests;
mod reset;
mod review;
mod rollback;
mod swap;
mod tags;
mod update;

pub use creation::*;
pub use intents::*;
pub use listing::*;
pub use races::*;
pub use reads::*;
pub use requests::*;
pub use reset::*;
pub use review::*;
pub use rollback::*;
pub use swap::*;
pub use tags::*;
pub use update::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use registration_svc::domain::{
    Attempt, AttemptFailure, Ctx, Intent, IntentKind, IntentState, LineItemDraft, NewRegistration,
    Registration, RegistrationDraft, RegistrationId, RequestKey, SerialFacts, SerialNumber, SerialPlans,
    WarrantyPlanTerms,
};
use registration_svc::store::Store;

pub const ORG: &str = "acme";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// `t0` plus `secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// The store's default lease.
pub fn lease() -> Duration {
    Duration::seconds(registration_svc::store::DEFAULT_LEASE_SECS)
}

pub fn ctx(now: DateTime<Utc>) -> Ctx<'static> {
    Ctx { org: ORG, actor: "alice", now }
}

pub fn org_ctx(org: &'static str, now: DateTime<Utc>) -> Ctx<'static> {
    Ctx { org, actor: "bob", now }
}

pub fn sn(raw: &str) -> SerialNumber {
    SerialNumber::parse(raw).unwrap()
}

pub fn key(id: u128, fingerprint: u8) -> RequestKey {
    RequestKey { request_id: uuid::Uuid::from_u128(id), fingerprint: [fingerprint; 32] }
}

pub fn failure(code: &str, serial: &str) -> AttemptFailure {
    AttemptFailure::new(code, Some(serial), format!("{code} {serial}"))
}

pub fn draft(serials: &[&str]) -> RegistrationDraft {
    RegistrationDraft {
        customer_email: "Ada@Example.com".into(),
        customer_name: "Ada Lovelace".into(),
        channel_name: "web".into(),
        line_items: serials
            .iter()
            .map(|s| LineItemDraft { quantity: 1, serial_number: (*s).into(), ..LineItemDraft::default() })
            .collect(),
        ..RegistrationDraft::default()
    }
}

pub fn new_registration(serials: &[&str]) -> NewRegistration {
    NewRegistration::parse(&draft(serials)).unwrap()
}

/// A plan of `months` for each of `serials`.
pub fn plans(serials: &[&str], months: u32) -> SerialPlans {
    let mut plans = SerialPlans::new();
    for serial in serials {
        let plan = WarrantyPlanTerms { id: "std".into(), name: "Standard".into(), duration_months: months };
        plans.insert(&sn(serial), plan);
    }
    plans
}

/// A fresh attempt, and the registration its completion writes.
pub struct Begun {
    pub attempt: Attempt,
    /// As [`NewRegistration::requested`] makes it for the attempt: what a completion takes.
    pub registration: Registration,
}

/// Begins an attempt for `new` (fresh).
pub async fn begin(store: &Store, ctx: &Ctx<'_>, new: &NewRegistration) -> Begun {
    let started = store.begin_attempt(ctx, None, new).await.unwrap();
    assert!(!started.is_replay());
    let attempt = started.into_inner();
    let registration = new.requested(&attempt.id, ctx.org, ctx.now);
    Begun { attempt, registration }
}

/// Registers `serials` at `now` as if serial-svc granted every claim: begin, then complete.
pub async fn register_at(store: &Store, ctx: &Ctx<'_>, new: &NewRegistration) -> Registration {
    let begun = begin(store, ctx, new).await;
    store.complete_registration(ctx, &begun.registration, &SerialPlans::new()).await.unwrap()
}

/// Registers `serials` in [`ORG`] at `now`.
pub async fn register(store: &Store, now: DateTime<Utc>, serials: &[&str]) -> Registration {
    register_at(store, &ctx(now), &new_registration(serials)).await
}

/// Every intent of registration (or attempt) `id` of [`ORG`].
pub async fn intents(store: &Store, id: &RegistrationId) -> Vec<Intent> {
    store.intents_of(ORG, id).await.unwrap()
}

/// The serials of the pending `release` intents among `intents`, sorted.
pub fn pending_releases(intents: &[Intent]) -> Vec<String> {
    let mut serials: Vec<String> = intents
        .iter()
        .filter(|i| i.kind == IntentKind::Release && i.state == IntentState::Pending)
        .map(|i| i.serial_number.as_str().to_owned())
        .collect();
    serials.sort();
    serials
}

/// Which registration of [`ORG`] holds `serial`, if any.
pub async fn holder(store: &Store, serial: &str) -> Option<RegistrationId> {
    store.lookup_by_serial(ORG, &sn(serial)).await.unwrap().map(|r| r.id)
}
