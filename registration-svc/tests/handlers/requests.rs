use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

fn approve(id: &str, request_id: &str) -> pb::ApproveRegistrationRequest {
    pb::ApproveRegistrationRequest { id: id.into(), request_id: request_id.into() }
}

pub async fn a_replayed_approval_returns_the_first_answer(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let request_id = Uuid::now_v7().to_string();
    let first = h.api.approve_registration(reviewer(approve(&id, &request_id))).await.unwrap().into_inner();
    h.clock.set(at(60));
    let again = h.api.approve_registration(reviewer(approve(&id, &request_id))).await;
    assert_eq!(again.expect("a replay, not a second approval").into_inner(), first);
    let status = h.api.approve_registration(reviewer(approve(&id, ""))).await.unwrap_err();
    assert_invalid_transition(&status);
}

pub async fn the_same_request_id_with_another_request_is_refused_as_reused(h: Harness) {
    let a = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let b = register(&h.store, at(2), &["SN-2"]).await.id.to_string();
    let request_id = Uuid::now_v7().to_string();
    h.api.approve_registration(reviewer(approve(&a, &request_id))).await.unwrap();
    let status = h.api.approve_registration(reviewer(approve(&b, &request_id))).await.unwrap_err();
    assert_eq!(bad_fields(&status, "REQUEST_ID_REUSED"), ["request_id"]);
    let cancel = pb::CancelRegistrationRequest { id: a.clone(), request_id: request_id.clone() };
    let status = h.api.cancel_registration(writer(cancel)).await.unwrap_err();
    assert_eq!(
        reason(&status, Code::InvalidArgument),
        "REQUEST_ID_REUSED",
        "another method is another request"
    );
    let create = pb::CreateRegistrationRequest { registration: Some(input(&["SN-3"])), request_id };
    let status = h.api.create_registration(writer(create)).await.unwrap_err();
    assert_eq!(reason(&status, Code::InvalidArgument), "REQUEST_ID_REUSED");
}

pub async fn a_request_id_that_is_not_a_uuid_is_an_invalid_field(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let status = h.api.approve_registration(reviewer(approve(&id, "retry-1"))).await.unwrap_err();
    assert_invalid_field(&status, "request_id");
    let create =
        pb::CreateRegistrationRequest { registration: Some(input(&["SN-2"])), request_id: "x".into() };
    assert_invalid_field(&h.api.create_registration(writer(create)).await.unwrap_err(), "request_id");
    let swap = pb::SwapSerialRequest {
        serial_number: "SN-1".into(),
        new_serial_number: "SN-2".into(),
        request_id: "1234".into(),
    };
    assert_invalid_field(&h.api.swap_serial(writer(swap)).await.unwrap_err(), "request_id");
    let reset = pb::ResetSerialRequest { serial_number: "SN-1".into(), request_id: "abc".into() };
    assert_invalid_field(&h.api.reset_serial(writer(reset)).await.unwrap_err(), "request_id");
}
