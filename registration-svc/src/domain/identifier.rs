//! Serial numbers (the same rules as serial-svc's) and registration ids.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest serial number, in characters.
pub const MAX_IDENTIFIER_LEN: usize = 64;

/// Why a string is not a valid serial number. The message completes "invalid <field>: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {len}")]
    TooLong { len: usize, max: usize },
    #[error("must not contain whitespace (at position {position})")]
    Whitespace { position: usize },
    #[error("must not contain control characters (at position {position})")]
    Control { position: usize },
    #[error("character {found:?} at position {position} is not allowed: use A-Z a-z 0-9 - _ . / :")]
    Character { found: char, position: usize },
}

/// Trims `raw` and checks it against the identifier alphabet `A-Z a-z 0-9 - _ . / :`.
fn parse_identifier(raw: &str) -> Result<&str, IdentifierError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(IdentifierError::Empty);
    }
    let len = trimmed.chars().count();
    if len > MAX_IDENTIFIER_LEN {
        return Err(IdentifierError::TooLong { len, max: MAX_IDENTIFIER_LEN });
    }
    for (position, c) in trimmed.chars().enumerate() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':') {
            continue;
        }
        return Err(if c.is_whitespace() {
            IdentifierError::Whitespace { position }
        } else if c.is_control() {
            IdentifierError::Control { position }
        } else {
            IdentifierError::Character { found: c, position }
        });
    }
    Ok(trimmed)
}

/// A serial number as first written, with its case-insensitive key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SerialNumber {
    display: String,
    key: String,
}

impl SerialNumber {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let display = parse_identifier(raw)?.to_owned();
        let key = display.to_ascii_lowercase();
        Ok(Self { display, key })
    }

    /// The serial number as it was written.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lowercase form that holdings and lookups use.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// A registration id that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a registration id such as 0190c2a4-5b3e-7d1a-9f00-1234567890ab")]
pub struct IdError;

/// A registration's id: a UUIDv7 (time-ordered) in its lowercase hyphenated form. It is also
/// the claimant registration-svc names when it claims the registration's serials.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistrationId(String);

impl RegistrationId {
    /// A new id: a UUIDv7 from the system clock.
    pub fn generate() -> Self {
        Self(Uuid::now_v7().hyphenated().to_string())
    }

    /// Any UUID, in any of its usual spellings, is accepted (an id that names no registration
    /// is then simply not found).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let uuid = Uuid::try_parse(raw.trim()).map_err(|_| IdError)?;
        Ok(Self(uuid.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_trimmed_and_keyed_case_insensitively() {
        let serial = SerialNumber::parse("  AbC-123/x:y.z_ ").unwrap();
        assert_eq!(serial.as_str(), "AbC-123/x:y.z_");
        assert_eq!(serial.key(), "abc-123/x:y.z_");
    }

    #[test]
    fn serial_numbers_follow_serial_svc_rules() {
        assert!(SerialNumber::parse(&"a".repeat(64)).is_ok());
        assert_eq!(SerialNumber::parse(&"a".repeat(65)), Err(IdentifierError::TooLong { len: 65, max: 64 }));
        assert_eq!(SerialNumber::parse("   "), Err(IdentifierError::Empty));
        assert_eq!(SerialNumber::parse("ab cd"), Err(IdentifierError::Whitespace { position: 2 }));
        assert_eq!(SerialNumber::parse("ab\u{7}"), Err(IdentifierError::Control { position: 2 }));
        assert!(matches!(SerialNumber::parse("ab#"), Err(IdentifierError::Character { found: '#', .. })));
    }

    #[test]
    fn registration_ids_are_uuids_in_canonical_form() {
        let id = RegistrationId::generate();
        assert_eq!(Uuid::parse_str(id.as_str()).unwrap().get_version_num(), 7);
        let upper = id.as_str().to_ascii_uppercase();
        assert_eq!(RegistrationId::parse(&format!(" {upper} ")), Ok(id.clone()));
        assert_eq!(RegistrationId::parse("not-a-uuid"), Err(IdError));
        assert_eq!(RegistrationId::parse(""), Err(IdError));
    }
}
