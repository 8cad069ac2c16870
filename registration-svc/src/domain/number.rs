//! Customer-facing registration numbers: `<ORG-PREFIX>-REG-<sequence>`, e.g. `ACME-REG-00089`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest organization prefix, in characters.
pub const MAX_PREFIX_LEN: usize = 16;
/// Fewest digits of the sequence (zero-padded).
pub const MIN_SEQUENCE_DIGITS: usize = 5;
/// Most digits of the sequence (`u64::MAX` has 20).
const MAX_SEQUENCE_DIGITS: usize = 19;
const SEPARATOR: &str = "-REG-";

/// Why a string is not a registration number. The message completes "invalid <field>: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("must look like ACME-REG-00089")]
    Shape,
    #[error("the prefix must be 1-{MAX_PREFIX_LEN} of A-Z 0-9 -")]
    Prefix,
    #[error("the sequence must be {MIN_SEQUENCE_DIGITS} to {MAX_SEQUENCE_DIGITS} digits")]
    Sequence,
}

/// A registration number, always uppercase. Unique and sequential per organization; assigned
/// when a registration becomes PENDING, so failed attempts burn no number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistrationNumber(String);

impl RegistrationNumber {
    /// The prefix of `org`'s numbers: the org id uppercased, every character but A-Z 0-9 turned
    /// into `-`, cut to 16 characters (`ORG` for an empty org id).
    pub fn prefix_for(org: &str) -> String {
        let prefix: String = org
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '-' })
            .take(MAX_PREFIX_LEN)
            .collect();
        if prefix.is_empty() { "ORG".to_owned() } else { prefix }
    }

    /// `org`'s number `sequence`, zero-padded to at least five digits.
    pub fn new(org: &str, sequence: u64) -> Self {
        Self(format!("{}{SEPARATOR}{sequence:0width$}", Self::prefix_for(org), width = MIN_SEQUENCE_DIGITS))
    }

    /// Accepts any case (`acme-reg-00089` is `ACME-REG-00089`), surrounding whitespace trimmed.
    pub fn parse(raw: &str) -> Result<Self, NumberError> {
        let number = raw.trim().to_ascii_uppercase();
        let (prefix, digits) = number.rsplit_once(SEPARATOR).ok_or(NumberError::Shape)?;
        let prefix_ok = (1..=MAX_PREFIX_LEN).contains(&prefix.len())
            && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !prefix_ok {
            return Err(NumberError::Prefix);
        }
        let digits_ok = (MIN_SEQUENCE_DIGITS..=MAX_SEQUENCE_DIGITS).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit());
        if !digits_ok {
            return Err(NumberError::Sequence);
        }
        Ok(Self(number))
    }

    /// The position of the number in its organization's sequence (1 for the first).
    pub fn sequence(&self) -> u64 {
        self.0.rsplit_once(SEPARATOR).and_then(|(_, digits)| digits.parse().ok()).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_the_org_prefix_and_a_padded_sequence() {
        assert_eq!(RegistrationNumber::new("acme", 89).as_str(), "ACME-REG-00089");
        assert_eq!(RegistrationNumber::new("acme", 1_234_567).as_str(), "ACME-REG-1234567");
        assert_eq!(RegistrationNumber::new("globex.inc/eu", 1).as_str(), "GLOBEX-INC-EU-REG-00001");
        assert_eq!(RegistrationNumber::prefix_for("a-very-long-organization-id"), "A-VERY-LONG-ORGA");
        assert_eq!(RegistrationNumber::prefix_for("café"), "CAF-");
        assert_eq!(RegistrationNumber::prefix_for(""), "ORG");
    }

    #[test]
    fn parse_accepts_any_case_and_reads_the_sequence() {
        let number = RegistrationNumber::parse(" acme-reg-00089 ").unwrap();
        assert_eq!(number.as_str(), "ACME-REG-00089");
        assert_eq!(number.sequence(), 89);
        let odd = RegistrationNumber::new("x-reg-y", 7);
        assert_eq!(RegistrationNumber::parse(odd.as_str()), Ok(odd.clone()));
        assert_eq!(odd.sequence(), 7);
    }

    #[test]
    fn parse_refuses_other_shapes() {
        assert_eq!(RegistrationNumber::parse("ACME-00089"), Err(NumberError::Shape));
        assert_eq!(RegistrationNumber::parse("-REG-00089"), Err(NumberError::Prefix));
        assert_eq!(RegistrationNumber::parse("AC ME-REG-00089"), Err(NumberError::Prefix));
        assert_eq!(RegistrationNumber::parse("ACME-REG-0089"), Err(NumberError::Sequence));
        assert_eq!(RegistrationNumber::parse("ACME-REG-00O89"), Err(NumberError::Sequence));
    }
}
