//! Parsing request fields: every problem becomes INVALID_ARGUMENT with ErrorInfo reason
//! `INVALID_FIELD` and a BadRequest violation naming the field by its path in the request.

use std::fmt::Display;

use shared::status::{self, FieldViolation};
use tonic::Status;

use super::DOMAIN;
use crate::domain::FieldError;

/// The ErrorInfo reason of every invalid request field.
pub const INVALID_FIELD: &str = "INVALID_FIELD";

/// INVALID_ARGUMENT for one bad field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    invalid_fields(vec![FieldViolation::new(field, description.into())])
}

/// INVALID_ARGUMENT for several bad fields.
pub fn invalid_fields(violations: Vec<FieldViolation>) -> Status {
    status::invalid_argument(DOMAIN, INVALID_FIELD, violations)
}

/// Parses one field, naming it in the error.
pub fn field<T, E: Display>(name: &str, parsed: Result<T, E>) -> Result<T, Status> {
    parsed.map_err(|err| invalid_field(name, err.to_string()))
}

/// The path of `field` inside the message at `prefix` (`requests[3]`), or `field` itself for
/// an empty prefix.
pub fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") }
}

/// Collects the violations of a request with several fields, so the caller learns about every
/// bad field at once.
#[derive(Default)]
pub struct Violations {
    /// Where the parsed message sits in the request: empty for the request itself,
    /// `requests[3]` for an item of a batch.
    prefix: String,
    violations: Vec<FieldViolation>,
}

impl Violations {
    /// Violations of the message at `prefix` in the request (see [`path`]).
    pub fn within(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned(), violations: Vec::new() }
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

    /// Records the domain's field errors (already named by their path in the message).
    pub fn extend(&mut self, errors: Vec<FieldError>) {
        for error in errors {
            self.add(&error.field, error.problem.to_string());
        }
    }

    /// The error for every recorded violation.
    pub fn into_status(self) -> Status {
        invalid_fields(self.violations)
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
    use crate::domain::Problem;

    #[test]
    fn violations_inside_a_batch_item_are_named_from_the_request() {
        let mut violations = Violations::within("requests[3]");
        violations.add("request_id", "must be a UUID");
        violations.extend(vec![FieldError::new("registration.customer_email", Problem::Required)]);
        let fields: Vec<_> = violations.violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["requests[3].request_id", "requests[3].registration.customer_email"]);
        assert_eq!(path("", "id"), "id");
    }
}
