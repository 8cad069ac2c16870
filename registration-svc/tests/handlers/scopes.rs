use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::RegistrationService;
use shared::auth::Scope;
use tonic::{Code, Request};

use crate::support::*;

fn get(id: &str) -> pb::GetRegistrationRequest {
    pb::GetRegistrationRequest { id: id.into() }
}

fn denied(status: tonic::Status) {
    assert_eq!(reason(&status, Code::PermissionDenied), "MISSING_SCOPE");
}

pub async fn a_reader_may_read_but_neither_write_nor_review(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    h.api.get_registration(reader(get(&id))).await.expect("a reader reads");
    h.api.list_registrations(reader(pb::ListRegistrationsRequest::default())).await.expect("and lists");
    denied(h.api.create_registration(reader(create(input(&["SN-2"])))).await.unwrap_err());
    let approve = pb::ApproveRegistrationRequest { id: id.clone(), request_id: String::new() };
    denied(h.api.approve_registration(reader(approve)).await.unwrap_err());
    let cancel = pb::CancelRegistrationRequest { id, request_id: String::new() };
    denied(h.api.cancel_registration(reader(cancel)).await.unwrap_err());
}

pub async fn a_writer_cannot_review_and_a_reviewer_cannot_write(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    h.api.get_registration(writer(get(&id))).await.expect("a writer reads");
    h.api.get_registration(reviewer(get(&id))).await.expect("a reviewer reads");
    let approve = pb::ApproveRegistrationRequest { id: id.clone(), request_id: String::new() };
    denied(h.api.approve_registration(writer(approve)).await.unwrap_err());
    let deny = pb::DenyRegistrationRequest { id: id.clone(), ..Default::default() };
    denied(h.api.deny_registration(writer(deny)).await.unwrap_err());
    denied(h.api.create_registration(reviewer(create(input(&["SN-2"])))).await.unwrap_err());
    let batch = pb::BatchCreateRegistrationsRequest { requests: vec![create(input(&["SN-2"]))] };
    denied(h.api.batch_create_registrations(reviewer(batch)).await.unwrap_err());
    let update = pb::UpdateRegistrationRequest { registration: Some(input(&[])), ..Default::default() };
    denied(h.api.update_registration(reviewer(update)).await.unwrap_err());
    let cancel = pb::CancelRegistrationRequest { id, request_id: String::new() };
    denied(h.api.cancel_registration(reviewer(cancel)).await.unwrap_err());
    let swap = pb::SwapSerialRequest {
        serial_number: "SN-1".into(),
        new_serial_number: "SN-2".into(),
        ..Default::default()
    };
    denied(h.api.swap_serial(reviewer(swap)).await.unwrap_err());
    let reset = pb::ResetSerialRequest { serial_number: "SN-1".into(), ..Default::default() };
    denied(h.api.reset_serial(reviewer(reset)).await.unwrap_err());
}

pub async fn serial_scopes_do_not_grant_registrations(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let serials = |message| as_org(ORG, &[Scope::SerialsRead, Scope::SerialsWrite], message);
    let status = h.api.get_registration(serials(get(&id))).await.unwrap_err();
    denied(status);
    let lookup = pb::LookupRegistrationRequest { key: None };
    let status = h.api.lookup_registration(as_org(ORG, &[Scope::SerialsWrite], lookup)).await.unwrap_err();
    assert_eq!(
        metadata(&status, "required"),
        "registrations:read or registrations:write or registrations:review"
    );
}

pub async fn a_request_without_a_principal_is_unauthenticated(h: Harness) {
    let status = h.api.get_registration(Request::new(get("x"))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = h.api.create_registration(Request::new(create(input(&["SN-1"])))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
