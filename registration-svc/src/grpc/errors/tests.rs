use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;

use super::*;

fn refused(code: &str) -> SagaError {
    SagaError::Refused(AttemptFailure {
        metadata: Default::default(),
        code: code.into(),
        serial_number: Some("SN-1".into()),
        message: "the serial is revoked".into(),
    })
}

fn sn(raw: &str) -> SerialNumber {
    SerialNumber::parse(raw).unwrap()
}

/// The code, ErrorInfo reason and metadata of `status`, after checking the domain.
fn info(status: &Status) -> (Code, String, std::collections::HashMap<String, String>) {
    let info = status.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.domain, DOMAIN);
    (status.code(), info.reason, info.metadata)
}

#[test]
fn a_serial_serial_svc_does_not_have_is_not_found_with_its_resource() {
    let status = create(refused("SERIAL_NOT_FOUND"), "");
    let (code, reason, metadata) = info(&status);
    assert_eq!(
        (code, reason.as_str(), metadata["serial_number"].as_str()),
        (Code::NotFound, "SERIAL_NOT_FOUND", "SN-1")
    );
    assert_eq!(status.get_details_resource_info().unwrap().resource_name, "SN-1");
}

#[test]
fn other_refusals_are_failed_preconditions_with_serial_svcs_reason() {
    let status = create(refused("SERIAL_REVOKED"), "");
    let (code, reason, metadata) = info(&status);
    assert_eq!(
        (code, reason.as_str(), metadata["serial_number"].as_str()),
        (Code::FailedPrecondition, "SERIAL_REVOKED", "SN-1")
    );
    let violation = &status.get_details_precondition_failure().unwrap().violations[0];
    assert_eq!((violation.r#type.as_str(), violation.subject.as_str()), ("SERIAL_REVOKED", "serials/SN-1"));
}

#[test]
fn an_outage_is_unavailable_with_the_saga_retry_delay_and_no_cause() {
    let err = SagaError::Serial(SerialCallError::Unavailable {
        message: "tcp connect 10.0.0.7: refused".into(),
        retry_after: Duration::from_secs(3),
    });
    let status = create(err, "");
    assert_eq!(info(&status).1, "DEPENDENCY_UNAVAILABLE");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.get_details_retry_info().unwrap().retry_delay, Some(Duration::from_secs(3)));
    assert!(!status.message().contains("10.0.0.7"), "{}", status.message());
}

#[test]
fn a_rejection_passes_through_and_reuse_names_the_items_request_id() {
    let rejected = SerialCallError::Rejected(Status::unauthenticated("token expired"));
    let status = create(SagaError::Serial(rejected), "");
    assert_eq!((status.code(), status.message()), (Code::Unauthenticated, "token expired"));
    let status = create(SagaError::RequestIdReused, "requests[2]");
    assert_eq!(info(&status).1, "REQUEST_ID_REUSED");
    assert_eq!(status.get_details_bad_request().unwrap().field_violations[0].field, "requests[2].request_id");
}

#[test]
fn no_time_left_is_deadline_exceeded_and_an_unexpected_refusal_passes_through() {
    let status = create(SagaError::Serial(SerialCallError::OutOfTime), "");
    assert_eq!((status.code(), info(&status).1.as_str()), (Code::DeadlineExceeded, "DEADLINE_EXCEEDED"));
    let refused = SerialCallError::Refused {
        code: Code::FailedPrecondition,
        reason: "PLAN_RETIRED".into(),
        message: "the plan is retired".into(),
    };
    let status = create(SagaError::Serial(refused), "");
    assert_eq!(
        (status.code(), status.message()),
        (Code::FailedPrecondition, "PLAN_RETIRED: the plan is retired")
    );
    assert!(status.get_details_error_info().is_none());
}

#[test]
fn database_failures_are_unavailable_or_internal_without_the_cause() {
    let status = create(SagaError::Store(StoreError::Database(sqlx::Error::PoolTimedOut)), "");
    assert_eq!((status.code(), info(&status).1.as_str()), (Code::Unavailable, "DATABASE_UNAVAILABLE"));
    assert!(status.get_details_retry_info().is_some());
    let status = create(SagaError::Store(StoreError::Corrupt("bad row r-17".into())), "");
    assert_eq!((status.code(), status.message()), (Code::Internal, "internal error"));
    let status = create(SagaError::Inconsistent("serial SN-1 held twice".into()), "");
    assert_eq!((status.code(), status.message()), (Code::Internal, "internal error"));
}

#[test]
fn swap_refusals_name_the_serial_they_are_about() {
    let (old, new) = (sn("SN-OLD"), sn("SN-NEW"));
    let status = swap(SagaError::Swap(SwapError::NotHeld), &old, &new);
    let (code, reason, metadata) = info(&status);
    assert_eq!(
        (code, reason.as_str(), metadata["serial_number"].as_str()),
        (Code::NotFound, "REGISTRATION_NOT_FOUND", "SN-OLD")
    );
    assert!(status.get_details_resource_info().is_some());
    let status = swap(SagaError::Swap(SwapError::NewSerialHeld), &old, &new);
    let (code, reason, metadata) = info(&status);
    assert_eq!(
        (code, reason.as_str(), metadata["serial_number"].as_str()),
        (Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED", "SN-NEW")
    );
    let status = swap(SagaError::Swap(SwapError::SameSerial), &old, &old);
    assert_eq!(status.get_details_bad_request().unwrap().field_violations[0].field, "new_serial_number");
    let status = swap(SagaError::Swap(SwapError::SwapInFlight), &old, &new);
    assert_eq!((status.code(), info(&status).1.as_str()), (Code::Aborted, "SWAP_IN_FLIGHT"));
    let status = swap(refused("SERIAL_EXPIRED"), &old, &new);
    assert_eq!((status.code(), info(&status).1.as_str()), (Code::FailedPrecondition, "SERIAL_EXPIRED"));
}

#[test]
fn a_transition_from_the_wrong_state_names_the_registration_and_its_status() {
    let id = RegistrationId::generate();
    let err = TransitionError::InvalidTransition { from: RegistrationStatus::Denied };
    let status = transition(err, &id, "approve");
    let (code, reason, metadata) = info(&status);
    assert_eq!((code, reason.as_str()), (Code::FailedPrecondition, "INVALID_STATE_TRANSITION"));
    assert_eq!(
        (metadata["registration_id"].as_str(), metadata["status"].as_str()),
        (id.as_str(), "REGISTRATION_STATUS_DENIED")
    );
    assert_eq!(status.message(), "cannot approve a registration that is denied");
    assert!(status.get_details_precondition_failure().is_some());
    let status = transition(TransitionError::NotFound, &id, "deny");
    assert_eq!(info(&status).2["registration_id"], id.as_str());
}

#[test]
fn a_product_mismatch_names_the_serial_the_sku_and_the_serials_product() {
    let failure = AttemptFailure::product_mismatch("SN-1", "SAW", "DRILL");
    let status = saga(SagaError::Refused(failure));
    assert_eq!(status.code(), Code::FailedPrecondition);
    let details = status.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("SERIAL_PRODUCT_MISMATCH", DOMAIN));
    let named = |key: &str| info.metadata.get(key).map(String::as_str);
    assert_eq!(
        (named("serial_number"), named("sku"), named("product_sku")),
        (Some("SN-1"), Some("SAW"), Some("DRILL"))
    );
    let violation = &details.precondition_failure().unwrap().violations[0];
    assert_eq!(
        (violation.r#type.as_str(), violation.subject.as_str()),
        ("SERIAL_PRODUCT_MISMATCH", "serials/SN-1")
    );
}
