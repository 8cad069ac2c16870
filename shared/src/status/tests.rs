use std::error::Error;
use std::fmt;
use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;

use super::*;

const DOMAIN: &str = "serial.regserial";

fn error_info(status: &Status) -> tonic_types::ErrorInfo {
    let details = status.get_error_details();
    assert_eq!(details.error_info().map(|i| i.domain.as_str()), Some(DOMAIN), "{status:?}");
    details.error_info().cloned().expect("error info")
}

#[test]
fn one_invalid_field_is_named_in_the_message_and_the_details() {
    let status = invalid_argument(
        DOMAIN,
        "INVALID_FIELD",
        vec![FieldViolation::new("customer_email", "not an email")],
    );
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "invalid customer_email: not an email");
    let info = error_info(&status);
    assert_eq!(info.reason, "INVALID_FIELD");
    assert_eq!(info.metadata["violation_count"], "1");
    assert_eq!(info.metadata["field"], "customer_email");
    let details = status.get_error_details();
    let violations = &details.bad_request().expect("bad request").field_violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(
        (violations[0].field.as_str(), violations[0].description.as_str()),
        ("customer_email", "not an email")
    );
}

#[test]
fn many_violations_are_capped_with_the_full_count_in_metadata() {
    let violations = (0..25).map(|i| FieldViolation::new(format!("serials[{i}]"), "bad")).collect();
    let status = invalid_argument(DOMAIN, "INVALID_FIELD", violations);
    assert_eq!(status.message(), "invalid serials[0]: bad (and 24 more)");
    assert_eq!(error_info(&status).metadata["violation_count"], "25");
    let details = status.get_error_details();
    assert_eq!(details.bad_request().map(|b| b.field_violations.len()), Some(MAX_FIELD_VIOLATIONS));
}

#[test]
fn no_violation_still_gives_an_error_info() {
    let status = invalid_argument(DOMAIN, "BATCH_TOO_LARGE", Vec::new());
    assert_eq!(status.message(), "invalid argument");
    assert_eq!(error_info(&status).metadata["violation_count"], "0");
    assert!(status.get_error_details().bad_request().is_none());
}

#[test]
fn not_found_names_the_resource_in_metadata_resource_info_and_message() {
    let status = not_found(DOMAIN, "SERIAL_NOT_FOUND", "serial_number", "SN-1");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "serial number SN-1 not found");
    let info = error_info(&status);
    assert_eq!((info.reason.as_str(), info.metadata["serial_number"].as_str()), ("SERIAL_NOT_FOUND", "SN-1"));
    let details = status.get_error_details();
    let resource = details.resource_info().expect("resource info");
    assert_eq!((resource.resource_type.as_str(), resource.resource_name.as_str()), ("serial_number", "SN-1"));
}

#[test]
fn a_message_type_is_shortened_to_snake_case_for_metadata_and_message() {
    let status =
        already_exists(DOMAIN, "WARRANTY_PLAN_ALREADY_EXISTS", "regserial.serial.v1.WarrantyPlan", "gold");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(status.message(), "warranty plan gold already exists");
    assert_eq!(error_info(&status).metadata["warranty_plan"], "gold");
    let details = status.get_error_details();
    assert_eq!(
        details.resource_info().map(|r| r.resource_type.as_str()),
        Some("regserial.serial.v1.WarrantyPlan")
    );
}

#[test]
fn failed_precondition_carries_the_violation_and_metadata() {
    let status = failed_precondition(
        DOMAIN,
        "SERIAL_REVOKED",
        "serials/SN-1",
        "the serial is revoked",
        &[("serial_number", "SN-1")],
    );
    assert_eq!((status.code(), status.message()), (Code::FailedPrecondition, "the serial is revoked"));
    assert_eq!(error_info(&status).metadata["serial_number"], "SN-1");
    let details = status.get_error_details();
    let violation = &details.precondition_failure().expect("precondition failure").violations[0];
    assert_eq!(
        (violation.r#type.as_str(), violation.subject.as_str(), violation.description.as_str()),
        ("SERIAL_REVOKED", "serials/SN-1", "the serial is revoked")
    );
}

#[test]
fn unavailable_and_resource_exhausted_carry_retry_info() {
    let down =
        unavailable(DOMAIN, "DEPENDENCY_UNAVAILABLE", "serial-svc unreachable", Duration::from_secs(2));
    let limited = resource_exhausted(DOMAIN, "RATE_LIMITED", "too many requests", Duration::from_millis(250));
    assert_eq!(down.code(), Code::Unavailable);
    assert_eq!(limited.code(), Code::ResourceExhausted);
    assert_eq!(error_info(&down).reason, "DEPENDENCY_UNAVAILABLE");
    assert_eq!(down.get_details_retry_info().and_then(|r| r.retry_delay), Some(Duration::from_secs(2)));
    assert_eq!(
        limited.get_details_retry_info().and_then(|r| r.retry_delay),
        Some(Duration::from_millis(250))
    );
}

#[test]
fn aborted_permission_denied_and_unauthenticated_carry_error_info() {
    let conflict = aborted(DOMAIN, "CONCURRENT_UPDATE", "changed meanwhile", &[("id", "r1")]);
    assert_eq!((conflict.code(), error_info(&conflict).metadata["id"].as_str()), (Code::Aborted, "r1"));
    let denied = permission_denied(DOMAIN, "MISSING_SCOPE", "no", &[("required", "serials:write")]);
    assert_eq!(
        (denied.code(), error_info(&denied).reason.as_str()),
        (Code::PermissionDenied, "MISSING_SCOPE")
    );
    let anonymous = unauthenticated(DOMAIN, "missing authorization header");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    assert_eq!(error_info(&anonymous).reason, UNAUTHENTICATED);
}

#[derive(Debug)]
struct Outer(Inner);
#[derive(Debug)]
struct Inner;

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot store serial")
    }
}
impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}
impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("password authentication failed for user admin")
    }
}
impl Error for Inner {}

#[test]
fn internal_errors_never_leak_their_cause() {
    crate::telemetry::init_for_tests();
    let status = internal(DOMAIN, &Outer(Inner));
    assert_eq!((status.code(), status.message()), (Code::Internal, "internal error"));
    assert_eq!(error_info(&status).reason, INTERNAL);
    let encoded = format!("{status:?}{}", String::from_utf8_lossy(status.details()));
    assert!(!encoded.contains("password") && !encoded.contains("cannot store"), "{encoded}");
}

#[test]
fn the_error_chain_joins_every_source() {
    assert_eq!(
        error_chain(&Outer(Inner)),
        "cannot store serial: password authentication failed for user admin"
    );
}
