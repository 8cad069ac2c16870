//! Parsing request fields: every problem becomes INVALID_ARGUMENT with ErrorInfo reason
//! [`INVALID_FIELD`] and a BadRequest violation naming the field by its path in the request.
//! A service binds the single-field helpers to its ErrorInfo domain with [`crate::field_errors!`].

use std::fmt::Display;

use tonic::Status;

use super::FieldViolation;

/// The ErrorInfo reason of every invalid request field.
pub const INVALID_FIELD: &str = "INVALID_FIELD";

/// INVALID_ARGUMENT in `domain` for several bad fields.
pub fn invalid_fields(domain: &str, violations: Vec<FieldViolation>) -> Status {
    super::invalid_argument(domain, INVALID_FIELD, violations)
}

/// The path of `field` inside the message at `prefix` (`requests[3]`), or `field` itself for
/// an empty prefix.
pub fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") }
}

/// `invalid_field`, `invalid_fields` and `field` (one field parsed, naming it in the error) in
/// the ErrorInfo domain `$domain`, defined where the macro stands.
#[macro_export]
macro_rules! field_errors {
    ($domain:expr) => {
        /// INVALID_ARGUMENT for one bad field.
        pub fn invalid_field(field: &str, description: impl Into<String>) -> ::tonic::Status {
            invalid_fields(vec![$crate::status::FieldViolation::new(field, description.into())])
        }

        /// INVALID_ARGUMENT for several bad fields.
        pub fn invalid_fields(violations: Vec<$crate::status::FieldViolation>) -> ::tonic::Status {
            $crate::status::fields::invalid_fields($domain, violations)
        }

        /// Parses one field, naming it in the error.
        pub fn field<T, E: std::fmt::Display>(
            name: &str,
            parsed: Result<T, E>,
        ) -> Result<T, ::tonic::Status> {
            parsed.map_err(|err| invalid_field(name, err.to_string()))
        }
    };
}

/// Collects the violations of a request with several fields, so the caller learns about every
/// bad field at once.
pub struct Violations {
    domain: &'static str,
    /// Where the parsed message sits in the request: empty for the request itself,
    /// `requests[3]` for an item of a batch.
    prefix: String,
    violations: Vec<FieldViolation>,
}

impl Violations {
    /// Violations of the request itself, reported in `domain`.
    pub fn new(domain: &'static str) -> Self {
        Self::within(domain, "")
    }

    /// Violations of the message at `prefix` in the request (see [`path`]).
    pub fn within(domain: &'static str, prefix: &str) -> Self {
        Self { domain, prefix: prefix.to_owned(), violations: Vec::new() }
    }

    /// The parsed value, or `None` after recording why `name` is invalid.
    pub fn check<T, E: Display>(&mut self, name: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(err) => {
                self.add(name, err.to_string());
                None
            }
        }
    }

    /// Records a violation that no parser produced.
    pub fn add(&mut self, name: &str, description: impl Into<String>) {
        self.violations.push(FieldViolation::new(path(&self.prefix, name), description.into()));
    }

    /// The violations recorded so far, each named by its path in the request.
    pub fn recorded(&self) -> &[FieldViolation] {
        &self.violations
    }

    /// The error for every recorded violation.
    pub fn into_status(self) -> Status {
        invalid_fields(self.domain, self.violations)
    }

    /// `parsed` when nothing was recorded, else the error for every violation. Every part that
    /// failed to parse recorded one, so `parsed` is `None` only when there are violations.
    pub fn finish<T>(self, parsed: Option<T>) -> Result<T, Status> {
        match parsed {
            Some(value) if self.violations.is_empty() => Ok(value),
            _ => Err(self.into_status()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_inside_a_batch_item_are_named_from_the_request() {
        let mut violations = Violations::within("test.regserial.dev", "requests[3]");
        violations.add("request_id", "must be a UUID");
        assert_eq!(violations.check::<(), _>("serial", Err("required")), None);
        let fields: Vec<_> = violations.recorded().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["requests[3].request_id", "requests[3].serial"]);
        assert_eq!(path("", "id"), "id");
        assert!(violations.finish(Some(())).is_err());
        assert_eq!(Violations::new("test.regserial.dev").finish(Some(7)).unwrap(), 7);
    }
}
