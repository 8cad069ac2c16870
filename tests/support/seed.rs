//! Seeding serial-svc and building registration requests for the end-to-end tests.

use regserial::registration::v1::{
    CreateRegistrationRequest, GetRegistrationRequest, LineItem, Registration,
};
use regserial::serial::v1::{
    BatchCreateSerialsRequest, CreateProductRequest, CreateWarrantyPlanRequest, GetSerialRequest, Product,
    RevokeSerialRequest, Serial, SerialStatus, WarrantyPlan,
};

use super::registration::{Registrations, Services};

/// The warranty plan and product every seeded serial belongs to.
pub const PLAN_ID: &str = "std-2y";
pub const PLAN_NAME: &str = "Two years";
pub const PLAN_MONTHS: u32 = 24;
pub const SKU: &str = "DRILL";

/// Creates the plan [`PLAN_ID`] and the product [`SKU`] in `org`.
pub async fn seed_catalog(pair: &impl Services, org: &str) {
    let mut c = pair.serials(org);
    let plan = WarrantyPlan {
        id: PLAN_ID.into(),
        name: PLAN_NAME.into(),
        duration_months: PLAN_MONTHS as i32,
        ..Default::default()
    };
    let plan = CreateWarrantyPlanRequest { warranty_plan: Some(plan), ..Default::default() };
    c.catalog.create_warranty_plan(plan).await.expect("create the plan");
    let product = Product {
        sku: SKU.into(),
        name: "Drill".into(),
        warranty_plan_id: PLAN_ID.into(),
        ..Default::default()
    };
    let product = CreateProductRequest { product: Some(product), ..Default::default() };
    c.catalog.create_product(product).await.expect("create the product");
}

/// Creates serials of product [`SKU`] in `org` (call [`seed_catalog`] first).
pub async fn add_serials(pair: &impl Services, org: &str, numbers: &[&str]) {
    let serials = numbers
        .iter()
        .map(|n| Serial { serial_number: (*n).into(), product_sku: SKU.into(), ..Default::default() })
        .collect();
    let batch = BatchCreateSerialsRequest { serials, atomic: true, ..Default::default() };
    let created = pair.serials(org).serials.batch_create_serials(batch).await.expect("create serials");
    assert_eq!(created.into_inner().serials.len(), numbers.len());
}

pub async fn revoke(pair: &impl Services, org: &str, number: &str) {
    let revoke =
        RevokeSerialRequest { serial_number: number.into(), reason: "stolen".into(), ..Default::default() };
    pair.serials(org).serials.revoke_serial(revoke).await.expect("revoke");
}

/// The serial as serial-svc has it now.
pub async fn serial(pair: &impl Services, org: &str, number: &str) -> Serial {
    let get = GetSerialRequest { serial_number: number.into() };
    pair.serials(org).serials.get_serial(get).await.expect("get serial").into_inner()
}

/// `(status, claimant)` of a serial in serial-svc.
pub async fn claim_of(pair: &impl Services, org: &str, number: &str) -> (SerialStatus, String) {
    let s = serial(pair, org, number).await;
    (s.status(), s.claimant)
}

/// A registration of `serials` (one line item each, quantity 1) by `email`.
pub fn registration(email: &str, serials: &[&str]) -> Registration {
    let line_items = serials
        .iter()
        .map(|s| LineItem {
            sku: SKU.into(),
            name: "Drill".into(),
            quantity: 1,
            serial_number: (*s).into(),
            ..Default::default()
        })
        .collect();
    Registration {
        customer_email: email.into(),
        customer_name: "Ada Lovelace".into(),
        line_items,
        ..Default::default()
    }
}

pub fn create_request(registration: Registration, request_id: Option<&str>) -> CreateRegistrationRequest {
    CreateRegistrationRequest {
        registration: Some(registration),
        request_id: request_id.map(str::to_owned).unwrap_or_default(),
    }
}

pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates a registration of `serials`, which must succeed.
pub async fn register(client: &mut Registrations, email: &str, serials: &[&str]) -> Registration {
    let create = create_request(registration(email, serials), Some(&new_request_id()));
    client.create_registration(create).await.expect("create registration").into_inner()
}

/// The sequence number at the end of a registration number (`ACME-REG-00089` -> 89).
pub fn sequence(number: &str) -> u64 {
    let digits: String = number.chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().unwrap_or_else(|_| panic!("no sequence in {number:?}"))
}

/// Registration `id`, which must exist.
pub async fn get(c: &mut Registrations, id: &str) -> Registration {
    c.get_registration(GetRegistrationRequest { id: id.into() }).await.unwrap().into_inner()
}
