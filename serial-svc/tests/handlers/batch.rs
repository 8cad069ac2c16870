use prost_types::Timestamp;
use regserial::serial::v1 as pb;
use regserial::serial::v1::serial_service_server::SerialService;
use tonic::Code;
use tonic_types::StatusExt;

use crate::support::*;

fn batch(serials: Vec<pb::Serial>, atomic: bool) -> pb::BatchCreateSerialsRequest {
    pb::BatchCreateSerialsRequest { serials, atomic, request_id: String::new() }
}

fn at(hours: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds: (t0() + chrono::Duration::hours(hours)).timestamp(), nanos: 0 })
}

/// An item whose validity ends before it starts.
fn backwards(number: &str) -> pb::Serial {
    pb::Serial { valid_from: at(10), valid_until: at(5), ..item(number) }
}

#[tokio::test]
async fn a_batch_of_10001_serials_is_too_large() {
    let h = harness().await;
    let serials = (0..10_001).map(|i| item(&format!("SN-{i}"))).collect();
    let status = h.api.batch_create_serials(writer(batch(serials, false))).await.unwrap_err();
    assert_eq!(bad_fields(&status, "BATCH_TOO_LARGE"), ["serials"]);
    let details = status.get_error_details();
    let description = &details.bad_request().unwrap().field_violations[0].description;
    assert_eq!(description, "at most 10000 serials per call, got 10001");
}

#[tokio::test]
async fn an_empty_batch_is_an_invalid_field() {
    let h = harness().await;
    let status = h.api.batch_create_serials(writer(batch(vec![], false))).await.unwrap_err();
    assert_invalid_field(&status, "serials");
}

#[tokio::test]
async fn a_partial_batch_creates_the_valid_items_and_reports_the_rest_by_index() {
    let h = harness().await;
    seed(&h.api, &["OLD-1"]).await;
    let serials = vec![
        item("SN-1"),
        item("bad one"),
        backwards("SN-2"),
        item("sn-1"),
        item("OLD-1"),
        pb::Serial { product_sku: "NO-SUCH-SKU".into(), ..item("SN-3") },
        item("SN-4"),
    ];
    let answer = h.api.batch_create_serials(writer(batch(serials, false))).await.unwrap().into_inner();
    let created: Vec<_> = answer.serials.iter().map(|s| s.serial_number.as_str()).collect();
    assert_eq!(created, ["SN-1", "SN-4"]);
    let errors: Vec<_> = answer.errors.iter().map(|e| (e.index, e.reason.as_str())).collect();
    assert_eq!(
        errors,
        [
            (1, "INVALID_SERIAL_NUMBER"),
            (2, "INVALID_VALIDITY_WINDOW"),
            (3, "ALREADY_EXISTS"),
            (4, "ALREADY_EXISTS"),
            (5, "UNKNOWN_PRODUCT_SKU"),
        ]
    );
    assert!(answer.errors[1].message.starts_with("serials[2].valid_until"), "{:?}", answer.errors[1]);
}

#[tokio::test]
async fn valid_until_before_valid_from_rejects_an_atomic_batch_naming_the_item_field() {
    let h = harness().await;
    let status = h.api.batch_create_serials(writer(batch(vec![item("SN-1"), backwards("SN-2")], true))).await;
    let status = status.unwrap_err();
    assert_invalid_field(&status, "serials[1].valid_until");
    let details = status.get_error_details();
    let description = &details.bad_request().unwrap().field_violations[0].description;
    assert!(description.starts_with("INVALID_VALIDITY_WINDOW: "), "{description}");
    let get = h.api.get_serial(reader(pb::GetSerialRequest { serial_number: "SN-1".into() })).await;
    assert_eq!(get.unwrap_err().code(), Code::NotFound, "nothing was created");
}

#[tokio::test]
async fn an_atomic_batch_refused_by_the_store_names_each_failed_item() {
    let h = harness().await;
    let serials = vec![
        item("SN-1"),
        pb::Serial { product_sku: "NO-SUCH-SKU".into(), ..item("SN-2") },
        pb::Serial { warranty_plan_id: "NO-SUCH-PLAN".into(), ..item("SN-3") },
    ];
    let status = h.api.batch_create_serials(writer(batch(serials, true))).await.unwrap_err();
    assert_eq!(
        bad_fields(&status, "INVALID_FIELD"),
        ["serials[1].product_sku", "serials[2].warranty_plan_id"]
    );
}

#[tokio::test]
async fn an_atomic_batch_of_only_duplicates_is_already_exists() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let status = h.api.batch_create_serials(writer(batch(vec![item("SN-2"), item("sn-1")], true))).await;
    let status = status.unwrap_err();
    assert_eq!(reason(&status, Code::AlreadyExists), "SERIAL_ALREADY_EXISTS");
    let details = status.get_error_details();
    assert_eq!(details.error_info().unwrap().metadata["serial_number"], "sn-1");

    let twice = batch(vec![item("SN-3"), item("SN-3"), item("SN-1")], true);
    let status = h.api.batch_create_serials(writer(twice)).await.unwrap_err();
    assert_eq!(reason(&status, Code::AlreadyExists), "SERIAL_ALREADY_EXISTS");
}
