//! Serial numbers, parsed by the same rules in both services: registration-svc names the
//! serials it claims from serial-svc, so the two must agree on what a serial number is and on
//! its case-insensitive key.

/// Longest serial number (and, in serial-svc, SKU or plan id), in characters.
pub const MAX_IDENTIFIER_LEN: usize = 64;

/// Why a string is not a valid identifier. The message completes "invalid <field>: ".
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

/// Trims `raw` and checks it against the identifier alphabet `A-Z a-z 0-9 - _ . / :` (serial-svc
/// also names SKUs and plan ids with it).
pub fn parse_identifier(raw: &str) -> Result<&str, IdentifierError> {
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

crate::keyed!(
    /// A serial number as first written, with its case-insensitive key.
    SerialNumber
);

impl SerialNumber {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let display = parse_identifier(raw)?.to_owned();
        let key = display.to_ascii_lowercase();
        Ok(Self(crate::keyed::Keyed::new(display, key)))
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
    fn sixty_four_characters_are_accepted_and_sixty_five_refused() {
        assert!(SerialNumber::parse(&"a".repeat(64)).is_ok());
        assert_eq!(SerialNumber::parse(&"a".repeat(65)), Err(IdentifierError::TooLong { len: 65, max: 64 }));
    }

    #[test]
    fn empty_whitespace_inside_and_control_characters_are_refused() {
        assert_eq!(SerialNumber::parse("   "), Err(IdentifierError::Empty));
        assert_eq!(SerialNumber::parse("ab cd"), Err(IdentifierError::Whitespace { position: 2 }));
        assert_eq!(SerialNumber::parse("ab\u{7}"), Err(IdentifierError::Control { position: 2 }));
        assert!(matches!(SerialNumber::parse("ab#"), Err(IdentifierError::Character { found: '#', .. })));
        assert!(matches!(SerialNumber::parse("é1"), Err(IdentifierError::Character { .. })));
    }
}
