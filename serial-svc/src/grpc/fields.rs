//! Parsing request fields (see [`shared::status::fields`]) in serial-svc's domain, and every
//! field of a request at once.

use std::fmt::Display;

pub use shared::status::fields::Violations;
use tonic::Status;

use super::DOMAIN;

shared::field_errors!(DOMAIN);

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
                let mut violations = Violations::new(DOMAIN);
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
