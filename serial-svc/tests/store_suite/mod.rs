//! The bodies of the store conformance tests, written once for every backend.

mod catalog;
mod claims;
mod races;
mod requests;
mod serials;

pub use catalog::*;
pub use claims::*;
pub use races::*;
pub use requests::*;
pub use serials::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serial_svc::domain::{
    Claimant, Ctx, CustomerTags, DurationMonths, Name, NewProduct, NewSerial, NewWarrantyPlan, PlanId,
    SerialNumber, Sku, ValidityWindow,
};
use serial_svc::store::Store;

pub const ORG: &str = "acme";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

pub fn ctx(now: DateTime<Utc>) -> Ctx<'static> {
    Ctx { org: ORG, actor: "alice", now }
}

pub fn org_ctx(org: &'static str) -> Ctx<'static> {
    Ctx { org, actor: "bob", now: t0() }
}

pub fn sn(raw: &str) -> SerialNumber {
    SerialNumber::parse(raw).unwrap()
}

pub fn claimant(raw: &str) -> Claimant {
    Claimant::parse(raw).unwrap()
}

pub fn serial(raw: &str) -> NewSerial {
    NewSerial {
        number: sn(raw),
        product_sku: None,
        warranty_plan_id: None,
        window: ValidityWindow::default(),
        customer_tags: CustomerTags::default(),
    }
}

pub fn windowed(raw: &str, from: i64, until: i64, register_until: i64) -> NewSerial {
    let hours = |h: i64| Some(t0() + Duration::hours(h));
    NewSerial {
        window: ValidityWindow::new(hours(from), hours(until), hours(register_until)).unwrap(),
        ..serial(raw)
    }
}

/// Creates `numbers` as plain serials at t0 and checks that every one was created.
pub async fn seed(store: &Store, numbers: &[&str]) {
    let items = numbers.iter().enumerate().map(|(i, n)| (i, serial(n))).collect();
    let outcome = store.create_serials(&ctx(t0()), None, items, true).await.unwrap();
    assert_eq!(outcome.created.len(), numbers.len());
}

pub async fn seed_plan(store: &Store, id: &str, months: i32) {
    let plan = NewWarrantyPlan {
        id: PlanId::parse(id).unwrap(),
        name: Name::parse("Standard").unwrap(),
        duration_months: DurationMonths::new(months).unwrap(),
    };
    store.create_warranty_plan(&ctx(t0()), None, plan).await.unwrap();
}

pub fn product(sku: &str, parent: Option<&str>, plan: Option<&str>) -> NewProduct {
    NewProduct {
        sku: Sku::parse(sku).unwrap(),
        name: Name::parse("Drill").unwrap(),
        parent_sku: parent.map(|p| Sku::parse(p).unwrap()),
        warranty_plan_id: plan.map(|p| PlanId::parse(p).unwrap()),
    }
}
