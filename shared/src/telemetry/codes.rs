//! gRPC names as the conventions spell them: a call's path split into service and method, and
//! a status code written as Go's `codes.Code.String()` (what go-grpc-prometheus puts in
//! `grpc_code`, and what dashboards built for it expect).

use tonic::Code;

/// `/package.Service/Method` as (`package.Service`, `Method`); `None` for any other path.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

/// The name of `code` as Go's `codes.Code.String()` writes it (`OK`, `Canceled`, `NotFound`...).
pub fn go_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// Whether a server answering `code` has failed, per OpenTelemetry's gRPC conventions (the
/// span's status is then ERROR); a client's span is in error for any code but OK.
pub fn is_server_error(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_splits_into_the_full_service_name_and_the_bare_method() {
        assert_eq!(
            split_path("/regserial.serial.v1.SerialService/ValidateSerial"),
            Some(("regserial.serial.v1.SerialService", "ValidateSerial"))
        );
        assert_eq!(split_path("/grpc.health.v1.Health/Check"), Some(("grpc.health.v1.Health", "Check")));
        for bad in ["", "/", "//x", "/svc/", "svc/method", "/a/b/c", "/metrics"] {
            assert_eq!(split_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn codes_are_named_as_go_names_them() {
        assert_eq!(go_name(Code::Ok), "OK");
        assert_eq!(go_name(Code::Cancelled), "Canceled");
        assert_eq!(go_name(Code::NotFound), "NotFound");
        assert_eq!(go_name(Code::FailedPrecondition), "FailedPrecondition");
        assert_eq!(go_name(Code::Unauthenticated), "Unauthenticated");
    }
}
