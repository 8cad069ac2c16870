//! The calling side: reading google.rpc details back from a `Status`, and telling an error worth
//! retrying from a final one.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The `ErrorInfo.reason` of `status`, if it carries one.
pub fn error_reason(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

/// Whether the same call may succeed later: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
/// and ABORTED are transient; every other code is final.
pub fn is_retryable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted
    )
}

/// Whether `status` was made on the calling side from a transport error rather than sent by the
/// server: tonic gives the statuses it makes of a failed or lost connection, an HTTP/2 reset or
/// error (a connection closing under a call as the server goes away) and its own deadline
/// (`grpc-timeout`, as CANCELLED) the transport error as their source; a status a server sent
/// has none. Such a call may never have reached the server.
pub fn failed_in_transport(status: &Status) -> bool {
    std::error::Error::source(status).is_some()
}

/// How long the server asked the caller to wait before retrying (`RetryInfo.retry_delay`).
pub fn retry_delay(status: &Status) -> Option<Duration> {
    status.get_details_retry_info().and_then(|info| info.retry_delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status;

    #[test]
    fn transient_codes_are_retryable_and_the_rest_final() {
        for code in [Code::Unavailable, Code::DeadlineExceeded, Code::ResourceExhausted, Code::Aborted] {
            assert!(is_retryable(&Status::new(code, "x")), "{code:?}");
        }
        for code in
            [Code::InvalidArgument, Code::NotFound, Code::FailedPrecondition, Code::Internal, Code::Ok]
        {
            assert!(!is_retryable(&Status::new(code, "x")), "{code:?}");
        }
    }

    #[test]
    fn reason_and_delay_are_read_back_from_the_details() {
        let status = status::unavailable("d", "DEPENDENCY_UNAVAILABLE", "down", Duration::from_millis(1500));
        assert_eq!(error_reason(&status).as_deref(), Some("DEPENDENCY_UNAVAILABLE"));
        assert_eq!(retry_delay(&status), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn only_a_status_with_a_transport_source_failed_in_transport() {
        assert!(!failed_in_transport(&Status::cancelled("sent by the server")));
        let mut lost = Status::cancelled("h2 protocol error: stream reset");
        lost.set_source(std::sync::Arc::new(std::io::Error::other("connection closed under the call")));
        assert!(failed_in_transport(&lost));
    }

    #[test]
    fn a_plain_status_has_no_reason_nor_delay() {
        let status = Status::unavailable("down");
        assert_eq!(error_reason(&status), None);
        assert_eq!(retry_delay(&status), None);
    }
}
