//! Parsing request fields: every problem becomes INVALID_ARGUMENT with ErrorInfo reason
//! `INVALID_FIELD` and a BadRequest violation naming the field.

use std::fmt::Display;

use shared::status::{self, FieldViolation};
use tonic::Status;

use super::DOMAIN;

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

/// Collects the violations of a request with several fields, so the caller learns about every
/// bad field at once.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// The parsed value, or `None` after recording why `name` is invalid.
    pub fn check<T, E: Display>(&mut self, name: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(FieldViolation::new(name, err.to_string()));
                None
            }
        }
    }

    /// Records a violation that no parser produced.
    pub fn add(&mut self, name: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(name, description.into()));
    }

    /// The error for every recorded violation.
    pub fn into_status(self) -> Status {
        invalid_fields(self.0)
    }
}

/// Parses every field of a request at once: each value, or INVALID_ARGUMENT naming every bad
/// field, so the caller learns about all of them. Takes a tuple of `(name, parsed)` pairs.
pub fn fields<F: Fields>(parsed: F) -> Result<F::Values, Status> {
    parsed.values()
}

/// A tuple of `(field name, parse result)` pairs.
pub trait Fields {
    type Values;
    fn values(self) -> Result<Self::Values, Status>;
}

macro_rules! fields_tuple {
    ($($v:ident $t:ident $e:ident),+) => {
        impl<'n, $($t, $e: Display),+> Fields for ($((&'n str, Result<$t, $e>),)+) {
            type Values = ($($t,)+);

            fn values(self) -> Result<Self::Values, Status> {
                let mut violations = Violations::default();
                let ($($v,)+) = self;
                $(let $v = violations.check($v.0, $v.1);)+
                match ($($v,)+) {
                    ($(Some($v),)+) => Ok(($($v,)+)),
                    _ => Err(violations.into_status()),
                }
            }
        }
    };
}

fields_tuple!(a A EA, b B EB);
fields_tuple!(a A EA, b B EB, c C EC);
fields_tuple!(a A EA, b B EB, c C EC, d D ED);
