//! Identifiers parsed at the boundary: serial numbers, SKUs, warranty plan ids and claimants.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest claimant (a registration id, or any caller-chosen holder name).
pub const MAX_CLAIMANT_LEN: usize = 128;

/// Serial numbers and the identifier alphabet are shared with registration-svc.
pub use shared::serial_number::{IdentifierError, MAX_IDENTIFIER_LEN, SerialNumber, parse_identifier};

macro_rules! exact_identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
                parse_identifier(raw).map(|s| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

exact_identifier!(
    /// A product SKU, unique per organization, matched exactly.
    Sku
);
exact_identifier!(
    /// A warranty plan id, unique per organization, matched exactly.
    PlanId
);

/// Who holds a claim: registration-svc passes the registration id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claimant(String);

impl Claimant {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IdentifierError::Empty);
        }
        let len = trimmed.chars().count();
        if len > MAX_CLAIMANT_LEN {
            return Err(IdentifierError::TooLong { len, max: MAX_CLAIMANT_LEN });
        }
        if let Some(position) = trimmed.chars().position(char::is_control) {
            return Err(IdentifierError::Control { position });
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimants_allow_any_printable_text() {
        assert_eq!(Claimant::parse(" reg 1 ").unwrap().as_str(), "reg 1");
        assert_eq!(Claimant::parse(""), Err(IdentifierError::Empty));
        assert!(Claimant::parse(&"r".repeat(129)).is_err());
    }
}
