//! Parsing request fields (see [`shared::status::fields`]) in registration-svc's domain.

pub use shared::status::fields::{Violations, path};

use super::DOMAIN;
use crate::domain::FieldError;

shared::field_errors!(DOMAIN);

/// Records the domain's field errors (already named by their path in the message).
impl Extend<FieldError> for Violations {
    fn extend<I: IntoIterator<Item = FieldError>>(&mut self, errors: I) {
        for error in errors {
            self.add(&error.field, error.problem.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Problem;

    #[test]
    fn field_errors_inside_a_batch_item_are_named_from_the_request() {
        let mut violations = Violations::within(DOMAIN, "requests[3]");
        violations.add("request_id", "must be a UUID");
        violations.extend(vec![FieldError::new("registration.customer_email", Problem::Required)]);
        let fields: Vec<_> = violations.recorded().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["requests[3].request_id", "requests[3].registration.customer_email"]);
    }
}
