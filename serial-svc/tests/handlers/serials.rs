use regserial::serial::v1 as pb;
use regserial::serial::v1::serial_service_server::SerialService;
use tonic::Code;
use tonic_types::StatusExt;

use crate::support::*;

fn get(number: &str) -> pb::GetSerialRequest {
    pb::GetSerialRequest { serial_number: number.into() }
}

fn claim(number: &str, claimant: &str) -> pb::ClaimSerialRequest {
    pb::ClaimSerialRequest {
        serial_number: number.into(),
        claimant: claimant.into(),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn malformed_serial_numbers_are_invalid_arguments_naming_the_field() {
    let h = harness().await;
    for bad in ["", "   ", &"a".repeat(65), "ab cd", "ab\u{7}cd", "ab#cd"] {
        let status = h.api.get_serial(reader(get(bad))).await.unwrap_err();
        assert_invalid_field(&status, "serial_number");
        let status =
            h.api.validate_serial(reader(pb::ValidateSerialRequest { serial_number: bad.into() })).await;
        assert_invalid_field(&status.unwrap_err(), "serial_number");
    }
}

#[tokio::test]
async fn a_missing_serial_is_not_found_with_its_number() {
    let h = harness().await;
    let status = h.api.get_serial(reader(get("SN-404"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "SERIAL_NOT_FOUND");
    let details = status.get_error_details();
    assert_eq!(details.error_info().unwrap().metadata["serial_number"], "SN-404");
    assert_eq!(details.resource_info().unwrap().resource_name, "SN-404");
}

#[tokio::test]
async fn another_orgs_serial_is_not_found_for_every_method() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let status = h.api.get_serial(other_org(get("SN-1"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "SERIAL_NOT_FOUND");
    let status = h.api.claim_serial(other_org(claim("SN-1", "reg-x"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "SERIAL_NOT_FOUND");
    let events = pb::ListSerialEventsRequest { serial_number: "sn-1".into(), ..Default::default() };
    let status = h.api.list_serial_events(other_org(events)).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "SERIAL_NOT_FOUND");
    let validated =
        h.api.validate_serial(other_org(pb::ValidateSerialRequest { serial_number: "SN-1".into() })).await;
    let validated = validated.unwrap().into_inner();
    assert_eq!((validated.valid, validated.reason()), (false, pb::InvalidReason::NotFound));
    assert!(validated.serial.is_none());
}

#[tokio::test]
async fn validate_says_why_a_serial_cannot_be_registered() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let validate = || reader(pb::ValidateSerialRequest { serial_number: "sn-1".into() });
    let answer = h.api.validate_serial(validate()).await.unwrap().into_inner();
    assert_eq!((answer.valid, answer.reason()), (true, pb::InvalidReason::Unspecified));
    assert_eq!(answer.serial.unwrap().serial_number, "SN-1");

    h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.unwrap();
    let answer = h.api.validate_serial(validate()).await.unwrap().into_inner();
    assert_eq!((answer.valid, answer.reason()), (false, pb::InvalidReason::AlreadyRegistered));
    assert_eq!(answer.serial.unwrap().status(), pb::SerialStatus::Registered);
}

#[tokio::test]
async fn a_claim_by_a_second_claimant_is_refused_with_the_invalid_reason() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let first = h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.unwrap().into_inner();
    assert_eq!((first.status(), first.claimant.as_str()), (pb::SerialStatus::Registered, "reg-1"));
    h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.expect("the same claimant again succeeds");

    let status = h.api.claim_serial(writer(claim("SN-1", "reg-2"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::FailedPrecondition), "SERIAL_ALREADY_REGISTERED");
    let details = status.get_error_details();
    let metadata = &details.error_info().unwrap().metadata;
    assert_eq!(metadata["invalid_reason"], "INVALID_REASON_ALREADY_REGISTERED");
    assert_eq!(metadata["serial_number"], "SN-1");
    assert!(details.precondition_failure().is_some());
}

#[tokio::test]
async fn a_claim_before_the_validity_window_is_refused_as_not_yet_valid() {
    let h = harness().await;
    let later = prost_types::Timestamp { seconds: (t0() + chrono::Duration::days(1)).timestamp(), nanos: 0 };
    let serial = pb::Serial { valid_from: Some(later), ..item("SN-1") };
    let batch = pb::BatchCreateSerialsRequest { serials: vec![serial], ..Default::default() };
    h.api.batch_create_serials(writer(batch)).await.unwrap();
    let status = h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::FailedPrecondition), "SERIAL_NOT_YET_VALID");
    h.clock.advance(chrono::Duration::days(2));
    h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.expect("valid once the window opens");
}

#[tokio::test]
async fn a_release_by_another_claimant_is_refused() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.unwrap();
    let release = |claimant: &str| pb::ReleaseSerialRequest {
        serial_number: "SN-1".into(),
        claimant: claimant.into(),
        ..Default::default()
    };
    let status = h.api.release_serial(writer(release("reg-2"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::FailedPrecondition), "SERIAL_HELD_BY_ANOTHER_CLAIMANT");
    let released = h.api.release_serial(writer(release("reg-1"))).await.unwrap().into_inner();
    assert_eq!(released.status(), pb::SerialStatus::Active);
}

#[tokio::test]
async fn allocating_when_nothing_is_left_is_not_found() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let allocate = || writer(pb::AllocateSerialRequest { claimant: "reg-1".into(), ..Default::default() });
    let got = h.api.allocate_serial(allocate()).await.unwrap().into_inner();
    assert_eq!((got.serial_number.as_str(), got.status()), ("SN-1", pb::SerialStatus::Registered));
    let status = h.api.allocate_serial(allocate()).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "NO_SERIAL_AVAILABLE");
}

#[tokio::test]
async fn a_revocation_needs_a_reason_of_at_most_500_characters() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    let revoke = |reason: String| pb::RevokeSerialRequest {
        serial_number: "SN-1".into(),
        reason,
        ..Default::default()
    };
    for bad in [String::new(), " ".into(), "r".repeat(501)] {
        let status = h.api.revoke_serial(writer(revoke(bad))).await.unwrap_err();
        assert_invalid_field(&status, "reason");
    }
    let revoked = h.api.revoke_serial(writer(revoke("stolen".into()))).await.unwrap().into_inner();
    assert_eq!((revoked.status(), revoked.revoke_reason.as_str()), (pb::SerialStatus::Revoked, "stolen"));
    let status = h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::FailedPrecondition), "SERIAL_REVOKED");
}

#[tokio::test]
async fn every_bad_field_of_a_claim_is_reported_at_once() {
    let h = harness().await;
    let request = pb::ClaimSerialRequest {
        serial_number: "a b".into(),
        claimant: String::new(),
        request_id: "not-a-uuid".into(),
    };
    let status = h.api.claim_serial(writer(request)).await.unwrap_err();
    assert_eq!(bad_fields(&status, "INVALID_FIELD"), ["request_id", "serial_number", "claimant"]);
}

#[tokio::test]
async fn history_lists_creation_and_claim_with_the_actor() {
    let h = harness().await;
    seed(&h.api, &["SN-1"]).await;
    h.api.claim_serial(writer(claim("SN-1", "reg-1"))).await.unwrap();
    let events = pb::ListSerialEventsRequest { serial_number: "SN-1".into(), ..Default::default() };
    let events = h.api.list_serial_events(reader(events)).await.unwrap().into_inner().events;
    let kinds: Vec<_> = events.iter().map(|e| e.r#type()).collect();
    assert_eq!(kinds, [pb::SerialEventType::Created, pb::SerialEventType::Claimed]);
    assert_eq!((events[1].claimant.as_str(), events[1].actor.as_str()), ("reg-1", "alice"));
}
