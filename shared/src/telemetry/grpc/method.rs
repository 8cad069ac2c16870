//! A call's method as span name and metric labels.

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use super::metrics::MethodMetrics;
use crate::telemetry::codes::split_path;

/// Distinct paths remembered as metric labels; calls to further paths (which only a client
/// inventing method names could make) are labelled `unknown`, so that labels stay bounded.
const MAX_METHODS: usize = 1024;
const UNKNOWN: &str = "unknown";

/// A call's method, as span name and labels; the strings live as long as the process (there
/// are at most [`MAX_METHODS`] of them).
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// `package.Service/Method`, the span's name.
    pub name: &'static str,
    /// `package.Service`.
    pub service: &'static str,
    /// `Method`.
    pub method: &'static str,
    /// The request path, `/package.Service/Method`.
    pub path: &'static str,
    /// Its metrics' handles.
    pub metrics: &'static MethodMetrics,
}

static METHODS: LazyLock<RwLock<HashMap<&'static str, Method>>> = LazyLock::new(RwLock::default);

impl Method {
    /// The method of the request path `path` (`unknown` if it is not a gRPC path).
    pub fn of(path: &str) -> Method {
        static UNKNOWN_METRICS: LazyLock<MethodMetrics> = LazyLock::new(MethodMetrics::default);
        let unknown = Method {
            name: UNKNOWN,
            service: UNKNOWN,
            method: UNKNOWN,
            path: UNKNOWN,
            metrics: &UNKNOWN_METRICS,
        };
        let Some((service, _)) = split_path(path) else { return unknown };
        if let Some(known) = METHODS.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(path) {
            return *known;
        }
        let mut methods = METHODS.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(known) = methods.get(path) {
            return *known;
        }
        if methods.len() >= MAX_METHODS {
            return unknown;
        }
        let path: &'static str = Box::leak(path.to_owned().into_boxed_str());
        // `path` is `/service/method`: the name is all but the slash.
        let name = &path[1..];
        let service = &name[..service.len()];
        let method = &name[service.len() + 1..];
        let metrics = Box::leak(Box::default());
        let known = Method { name, service, method, path, metrics };
        methods.insert(path, known);
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_is_named_and_labelled_from_its_path() {
        let method = Method::of("/regserial.serial.v1.SerialService/ValidateSerial");
        assert_eq!(method.name, "regserial.serial.v1.SerialService/ValidateSerial");
        assert_eq!(method.service, "regserial.serial.v1.SerialService");
        assert_eq!(method.method, "ValidateSerial");
        assert_eq!(method.path, "/regserial.serial.v1.SerialService/ValidateSerial");
        let again = Method::of("/regserial.serial.v1.SerialService/ValidateSerial");
        assert!(std::ptr::eq(method.name, again.name), "remembered, not made again");
        assert_eq!(Method::of("/not-grpc").service, "unknown");
    }
}
