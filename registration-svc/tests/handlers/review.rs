use regserial::registration::v1 as pb;
use regserial::registration::v1::lookup_registration_request::Key;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::Code;

use crate::support::*;

fn approve(id: &str) -> pb::ApproveRegistrationRequest {
    pb::ApproveRegistrationRequest { id: id.into(), request_id: String::new() }
}

fn deny(id: &str, reason: &str) -> pb::DenyRegistrationRequest {
    pb::DenyRegistrationRequest { id: id.into(), reason: reason.into(), request_id: String::new() }
}

fn cancel(id: &str) -> pb::CancelRegistrationRequest {
    pb::CancelRegistrationRequest { id: id.into(), request_id: String::new() }
}

fn by_serial(serial: &str) -> pb::LookupRegistrationRequest {
    pb::LookupRegistrationRequest { key: Some(Key::SerialNumber(serial.into())) }
}

pub async fn approve_moves_only_a_pending_registration(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    h.clock.set(at(5));
    let approved = h.api.approve_registration(reviewer(approve(&id))).await.unwrap().into_inner();
    assert_eq!(approved.status(), pb::RegistrationStatus::Approved);
    assert_eq!(approved.review_time.map(|t| t.seconds), Some(at(5).timestamp()));
    let status = h.api.approve_registration(reviewer(approve(&id))).await.unwrap_err();
    assert_invalid_transition(&status);
    assert_eq!(metadata(&status, "status"), "REGISTRATION_STATUS_APPROVED");
    assert_eq!(metadata(&status, "registration_id"), id);
    assert_invalid_transition(&h.api.deny_registration(reviewer(deny(&id, "late"))).await.unwrap_err());
    let held = h.api.lookup_registration(reader(by_serial("SN-1"))).await.unwrap().into_inner();
    assert_eq!(held.id, id, "an approved registration keeps its serial");
}

pub async fn deny_keeps_the_reason_and_stops_holding_the_serials(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1", "SN-2"]).await.id.to_string();
    let denied = h.api.deny_registration(reviewer(deny(&id, "  no proof of purchase "))).await;
    let denied = denied.expect("denied even though serial-svc is down: the release waits").into_inner();
    assert_eq!(denied.status(), pb::RegistrationStatus::Denied);
    assert_eq!(denied.denial_reason, "no proof of purchase");
    assert!(denied.review_time.is_some());
    let status = h.api.lookup_registration(reader(by_serial("SN-2"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    assert_invalid_transition(&h.api.deny_registration(reviewer(deny(&id, ""))).await.unwrap_err());
    assert_invalid_transition(&h.api.approve_registration(reviewer(approve(&id))).await.unwrap_err());
    assert_invalid_transition(&h.api.cancel_registration(writer(cancel(&id))).await.unwrap_err());
}

pub async fn cancel_moves_only_from_pending_or_approved(h: Harness) {
    let pending = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let approved = register(&h.store, at(2), &["SN-2"]).await.id.to_string();
    h.api.approve_registration(reviewer(approve(&approved))).await.unwrap();
    for id in [&pending, &approved] {
        let canceled = h.api.cancel_registration(writer(cancel(id))).await.unwrap().into_inner();
        assert_eq!(canceled.status(), pb::RegistrationStatus::Canceled);
        assert!(canceled.cancel_time.is_some());
        let status = h.api.cancel_registration(writer(cancel(id))).await.unwrap_err();
        assert_invalid_transition(&status);
        assert_eq!(metadata(&status, "status"), "REGISTRATION_STATUS_CANCELED");
    }
    assert_invalid_transition(&h.api.approve_registration(reviewer(approve(&pending))).await.unwrap_err());
}

pub async fn reviews_of_another_orgs_registration_are_not_found(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let status = h.api.approve_registration(other_org(approve(&id))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    let status = h.api.deny_registration(other_org(deny(&id, "x"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    let status = h.api.cancel_registration(other_org(cancel(&id))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    let pending = h.api.get_registration(reader(pb::GetRegistrationRequest { id })).await.unwrap();
    assert_eq!(pending.into_inner().status(), pb::RegistrationStatus::Pending, "nothing changed");
    let status = h.api.approve_registration(reviewer(approve("nope"))).await.unwrap_err();
    assert_invalid_field(&status, "id");
}

pub async fn a_deny_reason_over_2000_characters_is_refused(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let status = h.api.deny_registration(reviewer(deny(&id, &"r".repeat(2001)))).await.unwrap_err();
    assert_invalid_field(&status, "reason");
    let denied = h.api.deny_registration(reviewer(deny(&id, &"r".repeat(2000)))).await.unwrap();
    assert_eq!(denied.into_inner().denial_reason.len(), 2000);
}
