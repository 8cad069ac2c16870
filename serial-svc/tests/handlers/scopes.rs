use regserial::serial::v1 as pb;
use regserial::serial::v1::catalog_service_server::CatalogService;
use regserial::serial::v1::serial_service_server::SerialService;
use shared::auth::Scope;
use tonic::{Code, Request};

use crate::support::*;

#[tokio::test]
async fn a_token_without_a_serial_scope_cannot_read_serials() {
    let h = harness().await;
    let request =
        as_org(ORG, &[Scope::RegistrationsReview], pb::GetSerialRequest { serial_number: "SN-1".into() });
    let status = h.api.get_serial(request).await.unwrap_err();
    assert_eq!(reason(&status, Code::PermissionDenied), "MISSING_SCOPE");
}

#[tokio::test]
async fn a_reader_cannot_create_serials_nor_catalog_entries() {
    let h = harness().await;
    let batch = pb::BatchCreateSerialsRequest { serials: vec![item("SN-1")], ..Default::default() };
    let status = h.api.batch_create_serials(reader(batch)).await.unwrap_err();
    assert_eq!(reason(&status, Code::PermissionDenied), "MISSING_SCOPE");
    let plan = pb::CreateWarrantyPlanRequest {
        warranty_plan: Some(pb::WarrantyPlan {
            name: "Std".into(),
            duration_months: 12,
            ..Default::default()
        }),
        ..Default::default()
    };
    let status = h.api.create_warranty_plan(reader(plan)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_registration_writer_may_claim_and_read_but_not_revoke() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let claim = pb::ClaimSerialRequest {
        serial_number: "SN-1".into(),
        claimant: "reg-1".into(),
        ..Default::default()
    };
    h.api.claim_serial(registrar(claim)).await.expect("registrations:write may claim");
    h.api
        .get_serial(registrar(pb::GetSerialRequest { serial_number: "SN-1".into() }))
        .await
        .expect("and read");
    let revoke = pb::RevokeSerialRequest {
        serial_number: "SN-1".into(),
        reason: "stolen".into(),
        ..Default::default()
    };
    let status = h.api.revoke_serial(registrar(revoke)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_request_without_a_principal_is_unauthenticated() {
    let h = harness().await;
    let status = h
        .api
        .get_serial(Request::new(pb::GetSerialRequest { serial_number: "SN-1".into() }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
