//! Checks of the errors a service answers with: their code, ErrorInfo domain and reason, and
//! the fields a BadRequest names. A test crate binds them to its service's ErrorInfo domain
//! with [`crate::status_checks!`].

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The ErrorInfo reason, after checking the code and that the domain is `domain`.
pub fn reason(status: &Status, code: Code, domain: &str) -> String {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    let info = status.get_error_details().error_info().cloned().expect("an ErrorInfo");
    assert_eq!(info.domain, domain);
    info.reason
}

/// The fields named by the BadRequest of an INVALID_ARGUMENT in `domain` with ErrorInfo `reason`.
pub fn bad_fields(status: &Status, domain: &str, reason_wanted: &str) -> Vec<String> {
    assert_eq!(reason(status, Code::InvalidArgument, domain), reason_wanted);
    let details = status.get_error_details();
    let bad_request = details.bad_request().expect("a BadRequest");
    bad_request.field_violations.iter().map(|v| v.field.clone()).collect()
}

/// `reason`, `bad_fields` and `assert_invalid_field` for the errors of the ErrorInfo domain
/// `$domain`, defined where the macro stands.
#[macro_export]
macro_rules! status_checks {
    ($domain:expr) => {
        /// The ErrorInfo reason, after checking the code and that the domain is the service's.
        pub fn reason(status: &::tonic::Status, code: ::tonic::Code) -> String {
            $crate::testing::status::reason(status, code, $domain)
        }

        /// The fields named by the BadRequest of an INVALID_ARGUMENT with ErrorInfo `reason`.
        pub fn bad_fields(status: &::tonic::Status, reason_wanted: &str) -> Vec<String> {
            $crate::testing::status::bad_fields(status, $domain, reason_wanted)
        }

        /// Checks that `status` is INVALID_FIELD naming exactly `field`.
        pub fn assert_invalid_field(status: &::tonic::Status, field: &str) {
            assert_eq!(bad_fields(status, $crate::status::fields::INVALID_FIELD), [field], "{status:?}");
        }
    };
}
