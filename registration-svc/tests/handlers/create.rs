use regserial::registration::v1 as pb;
use regserial::registration::v1::batch_create_registrations_result::Result as Outcome;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::Code;
use tonic_types::{RpcStatusExt, StatusExt};

use crate::support::*;

pub async fn a_registration_without_line_items_is_refused_naming_line_items(h: Harness) {
    let status = h.api.create_registration(writer(create(input(&[])))).await.unwrap_err();
    assert_invalid_field(&status, "registration.line_items");
    let missing = pb::CreateRegistrationRequest { registration: None, request_id: String::new() };
    assert_invalid_field(&h.api.create_registration(writer(missing)).await.unwrap_err(), "registration");
}

pub async fn a_quantity_below_one_is_refused_naming_the_line_item(h: Harness) {
    for quantity in [0, -3] {
        let mut registration = input(&["SN-1", "SN-2"]);
        registration.line_items[1].quantity = quantity;
        let status = h.api.create_registration(writer(create(registration))).await.unwrap_err();
        assert_invalid_field(&status, "registration.line_items[1].quantity");
    }
}

pub async fn a_serial_twice_in_one_registration_is_refused_naming_the_repeat(h: Harness) {
    let status =
        h.api.create_registration(writer(create(input(&["SN-1", "SN-2", "sn-1"])))).await.unwrap_err();
    assert_invalid_field(&status, "registration.line_items[2].serial_number");
    let details = status.get_error_details();
    let description = &details.bad_request().unwrap().field_violations[0].description;
    assert!(description.contains("registration.line_items[0].serial_number"), "{description}");
}

pub async fn an_invalid_or_missing_email_is_refused_naming_customer_email(h: Harness) {
    for email in ["", "  ", "ada.example.com", "ada@localhost", "a da@example.com"] {
        let registration = pb::Registration { customer_email: email.into(), ..input(&["SN-1"]) };
        let status = h.api.create_registration(writer(create(registration))).await.unwrap_err();
        assert_invalid_field(&status, "registration.customer_email");
    }
}

pub async fn every_bad_field_of_a_creation_is_reported_at_once(h: Harness) {
    let mut registration =
        pb::Registration { customer_email: "nope".into(), ..input(&["bad serial", "SN-2"]) };
    registration.line_items[1].quantity = 0;
    registration.line_items[1].image_url = "ftp://example.com/a.png".into();
    registration.purchase_date = Some(prost_types::Timestamp { seconds: 0, nanos: -1 });
    let request =
        pb::CreateRegistrationRequest { registration: Some(registration), request_id: "retry-1".into() };
    let status = h.api.create_registration(writer(request)).await.unwrap_err();
    assert_eq!(
        bad_fields(&status, "INVALID_FIELD"),
        [
            "request_id",
            "registration.purchase_date",
            "registration.customer_email",
            "registration.line_items[0].serial_number",
            "registration.line_items[1].quantity",
            "registration.line_items[1].image_url",
        ]
    );
}

pub async fn a_creation_while_serial_svc_is_unreachable_is_unavailable_and_shows_nothing(h: Harness) {
    let status = h.api.create_registration(writer(create(input(&["SN-1"])))).await.unwrap_err();
    assert_eq!(reason(&status, Code::Unavailable), "DEPENDENCY_UNAVAILABLE");
    assert!(status.get_details_retry_info().is_some_and(|r| r.retry_delay.is_some()));
    let listed = h.api.list_registrations(reader(pb::ListRegistrationsRequest::default())).await;
    assert!(listed.unwrap().into_inner().registrations.is_empty(), "the attempt in progress is hidden");
}

pub async fn a_batch_over_100_requests_is_too_large(h: Harness) {
    let requests = (0..101).map(|i| create(input(&[&format!("SN-{i}")]))).collect();
    let batch = pb::BatchCreateRegistrationsRequest { requests };
    let status = h.api.batch_create_registrations(writer(batch)).await.unwrap_err();
    assert_eq!(bad_fields(&status, "BATCH_TOO_LARGE"), ["requests"]);
    let empty = pb::BatchCreateRegistrationsRequest { requests: vec![] };
    assert_invalid_field(&h.api.batch_create_registrations(writer(empty)).await.unwrap_err(), "requests");
}

pub async fn each_batch_item_fails_alone_with_fields_named_from_the_request(h: Harness) {
    let requests = vec![
        create(pb::Registration { customer_email: "nope".into(), ..input(&["SN-1"]) }),
        create(input(&[])),
        create(input(&["SN-3"])),
        pb::CreateRegistrationRequest { registration: Some(input(&["SN-4"])), request_id: "x".into() },
    ];
    let batch = pb::BatchCreateRegistrationsRequest { requests };
    let results = h.api.batch_create_registrations(writer(batch)).await.unwrap().into_inner().results;
    let errors: Vec<_> = results
        .into_iter()
        .map(|result| match result.result {
            Some(Outcome::Error(status)) => status,
            other => panic!("expected an error, got {other:?}"),
        })
        .collect();
    let first_field = |status: &tonic_types::pb::Status| {
        status.get_details_bad_request().map(|b| b.field_violations[0].field.clone()).unwrap_or_default()
    };
    let summary: Vec<_> = errors
        .iter()
        .map(|s| (Code::from(s.code), s.get_details_error_info().unwrap().reason, first_field(s)))
        .collect();
    assert_eq!(
        summary,
        [
            (Code::InvalidArgument, "INVALID_FIELD".into(), "requests[0].registration.customer_email".into()),
            (Code::InvalidArgument, "INVALID_FIELD".into(), "requests[1].registration.line_items".into()),
            (Code::Unavailable, "DEPENDENCY_UNAVAILABLE".into(), String::new()),
            (Code::InvalidArgument, "INVALID_FIELD".into(), "requests[3].request_id".into()),
        ]
    );
    assert!(errors[2].get_details_retry_info().is_some(), "the details travel with each result");
}
