//! Building `tonic::Status` values with google.rpc error details (AIP-193).
//!
//! Every error carries exactly one `ErrorInfo` (an UPPER_SNAKE `reason`, the service's `domain`
//! and metadata naming what failed), plus the detail its code calls for: `BadRequest` for
//! INVALID_ARGUMENT, `ResourceInfo` for NOT_FOUND and ALREADY_EXISTS, `PreconditionFailure` for
//! FAILED_PRECONDITION, `RetryInfo` for UNAVAILABLE and RESOURCE_EXHAUSTED. Internal causes are
//! logged here and never reach the client. [`client`] reads details back on the calling side.

pub mod client;
pub mod fields;

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use client::{error_reason, failed_in_transport, is_retryable, retry_delay};

/// At most this many field violations travel in a `BadRequest`, to keep trailers small; the
/// full count is in the ErrorInfo metadata `violation_count`.
pub const MAX_FIELD_VIOLATIONS: usize = 20;

/// The ErrorInfo reason of every INTERNAL error.
pub const INTERNAL: &str = "INTERNAL";
/// The ErrorInfo reason of every UNAUTHENTICATED error.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";

/// One invalid request field: its path (`serials[3].serial_number`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`, described in lowercase without trailing punctuation.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// INVALID_ARGUMENT with a `BadRequest` of at most [`MAX_FIELD_VIOLATIONS`] violations. The
/// message names the first one; ErrorInfo metadata holds `violation_count` and `field` (the first).
pub fn invalid_argument(domain: &str, reason: &str, violations: Vec<FieldViolation>) -> Status {
    let count = violations.len();
    let mut metadata = HashMap::from([("violation_count".to_owned(), count.to_string())]);
    let message = match violations.first() {
        None => "invalid argument".to_owned(),
        Some(first) => {
            metadata.insert("field".to_owned(), first.field.clone());
            let message = format!("invalid {}: {}", first.field, first.description);
            if count > 1 { format!("{message} (and {} more)", count - 1) } else { message }
        }
    };
    let mut details = ErrorDetails::with_error_info(reason, domain, metadata);
    if count > 0 {
        let kept = violations
            .into_iter()
            .take(MAX_FIELD_VIOLATIONS)
            .map(|v| tonic_types::FieldViolation::new(v.field, v.description))
            .collect::<Vec<_>>();
        details.set_bad_request(kept);
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// NOT_FOUND with a `ResourceInfo`; message `<kind> <name> not found`.
///
/// `resource_type` goes verbatim into `ResourceInfo` (a field name such as `serial_number` or a
/// message type such as `regserial.serial.v1.Serial`). The ErrorInfo metadata key is its
/// snake_case short form (`serial_number`, `serial`), mapped to `resource_name`; the message uses
/// that form with spaces.
pub fn not_found(domain: &str, reason: &str, resource_type: &str, resource_name: &str) -> Status {
    resource_error(Code::NotFound, "not found", domain, reason, resource_type, resource_name)
}

/// ALREADY_EXISTS with a `ResourceInfo`; message `<kind> <name> already exists` (see
/// [`not_found`] for how `resource_type` is used).
pub fn already_exists(domain: &str, reason: &str, resource_type: &str, resource_name: &str) -> Status {
    resource_error(Code::AlreadyExists, "already exists", domain, reason, resource_type, resource_name)
}

fn resource_error(
    code: Code,
    what: &str,
    domain: &str,
    reason: &str,
    resource_type: &str,
    resource_name: &str,
) -> Status {
    let key = resource_key(resource_type);
    let message = format!("{} {resource_name} {what}", key.replace('_', " "));
    let mut details = ErrorDetails::with_error_info(reason, domain, [(key, resource_name.to_owned())]);
    details.set_resource_info(resource_type, resource_name, "", message.clone());
    Status::with_error_details(code, message, details)
}

/// `serial_number` -> `serial_number`; `regserial.serial.v1.WarrantyPlan` -> `warranty_plan`.
fn resource_key(resource_type: &str) -> String {
    let short = resource_type.rsplit('.').next().unwrap_or(resource_type);
    let mut key = String::with_capacity(short.len() + 4);
    for (i, c) in short.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !key.ends_with('_') {
                key.push('_');
            }
            key.push(c.to_ascii_lowercase());
        } else {
            key.push(c);
        }
    }
    key
}

/// FAILED_PRECONDITION with a `PreconditionFailure` (type = `reason`); the message is
/// `description`.
pub fn failed_precondition(
    domain: &str,
    reason: &str,
    subject: &str,
    description: &str,
    metadata: &[(&str, &str)],
) -> Status {
    let mut details = ErrorDetails::with_error_info(reason, domain, to_map(metadata));
    details.add_precondition_failure_violation(reason, subject, description);
    Status::with_error_details(Code::FailedPrecondition, description, details)
}

/// UNAVAILABLE with a `RetryInfo`: the caller may retry after `retry_after`.
pub fn unavailable(domain: &str, reason: &str, message: &str, retry_after: Duration) -> Status {
    retryable(Code::Unavailable, domain, reason, message, retry_after)
}

/// RESOURCE_EXHAUSTED with a `RetryInfo`: the caller may retry after `retry_after`.
pub fn resource_exhausted(domain: &str, reason: &str, message: &str, retry_after: Duration) -> Status {
    retryable(Code::ResourceExhausted, domain, reason, message, retry_after)
}

fn retryable(code: Code, domain: &str, reason: &str, message: &str, retry_after: Duration) -> Status {
    let mut details = ErrorDetails::with_error_info(reason, domain, HashMap::new());
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(code, message, details)
}

/// DEADLINE_EXCEEDED: the call's deadline ran out before the work could be done (or known to
/// be done); worth retrying with a longer one.
pub fn deadline_exceeded(domain: &str, reason: &str, message: &str) -> Status {
    let details = ErrorDetails::with_error_info(reason, domain, HashMap::new());
    Status::with_error_details(Code::DeadlineExceeded, message, details)
}

/// ABORTED: a conflict with a concurrent change, worth retrying the whole operation.
pub fn aborted(domain: &str, reason: &str, message: &str, metadata: &[(&str, &str)]) -> Status {
    Status::with_error_details(
        Code::Aborted,
        message,
        ErrorDetails::with_error_info(reason, domain, to_map(metadata)),
    )
}

/// PERMISSION_DENIED: the caller is known but may not do this.
pub fn permission_denied(domain: &str, reason: &str, message: &str, metadata: &[(&str, &str)]) -> Status {
    let details = ErrorDetails::with_error_info(reason, domain, to_map(metadata));
    Status::with_error_details(Code::PermissionDenied, message, details)
}

/// UNAUTHENTICATED with ErrorInfo reason `UNAUTHENTICATED`; `message` says what is wrong with
/// the credentials (never echoing them).
pub fn unauthenticated(domain: &str, message: &str) -> Status {
    let details = ErrorDetails::with_error_info(UNAUTHENTICATED, domain, HashMap::new());
    Status::with_error_details(Code::Unauthenticated, message, details)
}

/// INTERNAL: logs `err` with its whole source chain, and answers with the generic message
/// "internal error" and ErrorInfo reason `INTERNAL`, never the cause.
pub fn internal(domain: &str, err: &(dyn std::error::Error + 'static)) -> Status {
    tracing::error!(error = %error_chain(err), domain, "internal error");
    let details = ErrorDetails::with_error_info(INTERNAL, domain, HashMap::new());
    Status::with_error_details(Code::Internal, "internal error", details)
}

/// How long a caller should wait before retrying while the database is unreachable.
const DATABASE_RETRY_DELAY: Duration = Duration::from_secs(1);

/// A database failure, answered the same way by every service: UNAVAILABLE with ErrorInfo
/// `DATABASE_UNAVAILABLE` and a RetryInfo while the database cannot be reached (logged as a
/// warning), otherwise logged with its cause and answered as INTERNAL without it.
pub fn store_failure(domain: &str, err: &crate::db::StoreError) -> Status {
    if err.is_unavailable() {
        tracing::warn!(error = %error_chain(err), "database unavailable");
        let message = "database unavailable, retry later";
        return unavailable(domain, "DATABASE_UNAVAILABLE", message, DATABASE_RETRY_DELAY);
    }
    internal(domain, err)
}

/// `err` and its sources, joined with `: `.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

fn to_map(metadata: &[(&str, &str)]) -> HashMap<String, String> {
    metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[cfg(test)]
mod tests;
