use regserial::serial::v1 as pb;
use regserial::serial::v1::catalog_service_server::CatalogService;
use regserial::serial::v1::serial_service_server::SerialService;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

fn allocate(request_id: &str, claimant: &str) -> pb::AllocateSerialRequest {
    pb::AllocateSerialRequest {
        product_sku: String::new(),
        claimant: claimant.into(),
        request_id: request_id.into(),
    }
}

#[tokio::test]
async fn a_replayed_request_id_returns_the_first_answer() {
    let h = harness().await;
    seed(&h.api, &["SN-1", "SN-2"]).await;
    let id = Uuid::now_v7().to_string();
    let first = h.api.allocate_serial(writer(allocate(&id, "reg-1"))).await.unwrap().into_inner();
    let again = h.api.allocate_serial(writer(allocate(&id, "reg-1"))).await.unwrap().into_inner();
    assert_eq!(first, again, "the retry got the same serial, not a second one");
    let other = h.api.allocate_serial(writer(allocate("", "reg-1"))).await.unwrap().into_inner();
    assert_ne!(other.serial_number, first.serial_number);
}

#[tokio::test]
async fn the_same_request_id_with_another_body_is_refused_as_reused() {
    let h = harness().await;
    seed(&h.api, &["SN-1", "SN-2"]).await;
    let id = Uuid::now_v7().to_string();
    h.api.allocate_serial(writer(allocate(&id, "reg-1"))).await.unwrap();
    let status = h.api.allocate_serial(writer(allocate(&id, "reg-2"))).await.unwrap_err();
    assert_eq!(bad_fields(&status, "REQUEST_ID_REUSED"), ["request_id"]);

    let claim =
        pb::ClaimSerialRequest { serial_number: "SN-2".into(), claimant: "reg-1".into(), request_id: id };
    let status = h.api.claim_serial(writer(claim)).await.unwrap_err();
    assert_eq!(reason(&status, Code::InvalidArgument), "REQUEST_ID_REUSED", "another method is another body");
}

#[tokio::test]
async fn a_replayed_batch_returns_the_first_answer_without_creating_twice() {
    let h = harness().await;
    let id = Uuid::now_v7().to_string();
    let request = || pb::BatchCreateSerialsRequest {
        serials: vec![item("SN-1"), item("bad one")],
        atomic: false,
        request_id: id.clone(),
    };
    let first = h.api.batch_create_serials(writer(request())).await.unwrap().into_inner();
    let again = h.api.batch_create_serials(writer(request())).await.unwrap().into_inner();
    assert_eq!(first, again);
    assert_eq!((first.serials.len(), first.errors.len()), (1, 1));
}

#[tokio::test]
async fn a_request_id_that_is_not_a_uuid_is_an_invalid_field() {
    let h = harness().await;
    let plan = pb::CreateWarrantyPlanRequest {
        warranty_plan: Some(pb::WarrantyPlan {
            name: "Std".into(),
            duration_months: 12,
            ..Default::default()
        }),
        request_id: "retry-1".into(),
    };
    assert_invalid_field(&h.api.create_warranty_plan(writer(plan)).await.unwrap_err(), "request_id");
    let batch =
        pb::BatchCreateSerialsRequest { serials: vec![item("SN-1")], atomic: false, request_id: "x".into() };
    assert_invalid_field(&h.api.batch_create_serials(writer(batch)).await.unwrap_err(), "request_id");
}
