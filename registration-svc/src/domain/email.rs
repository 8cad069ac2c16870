//! Customer email addresses.

/// Longest email address, in characters (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (before the `@`), in characters.
const MAX_LOCAL_LEN: usize = 64;
/// Characters that only quoted local parts may hold: refused everywhere here.
const SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ',', ';', ':', '\\', '"'];

/// Why an email address is refused. The message completes "invalid <field>: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {len}")]
    TooLong { len: usize, max: usize },
    #[error("must not contain whitespace (at position {position})")]
    Whitespace { position: usize },
    #[error("must not contain control characters (at position {position})")]
    Control { position: usize },
    #[error("character {found:?} at position {position} is not allowed")]
    Character { found: char, position: usize },
    #[error("must contain exactly one @")]
    At,
    #[error("must have 1-{MAX_LOCAL_LEN} characters before the @")]
    Local,
    #[error("must have a domain with a dot after the @, such as example.com")]
    Domain,
}

shared::keyed!(
    /// An email address as written (trimmed), with the lowercase key that filters match on.
    Email
);

impl Email {
    /// A sane subset of RFC 5321: one `@`, a local part of 1-64 characters, a domain of
    /// non-empty dot-separated labels (at least two, none starting or ending with `-`), no
    /// whitespace, control or quoting characters, at most 254 characters.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        let len = email.chars().count();
        if len > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong { len, max: MAX_EMAIL_LEN });
        }
        for (position, c) in email.chars().enumerate() {
            if c.is_whitespace() {
                return Err(EmailError::Whitespace { position });
            }
            if c.is_control() {
                return Err(EmailError::Control { position });
            }
            if SPECIALS.contains(&c) {
                return Err(EmailError::Character { found: c, position });
            }
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::At);
        };
        if local.is_empty() || local.chars().count() > MAX_LOCAL_LEN {
            return Err(EmailError::Local);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-');
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(EmailError::Domain);
        }
        Ok(Self(shared::keyed::Keyed::new(email.to_owned(), email.to_lowercase())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_keyed_in_lowercase() {
        let email = Email::parse("  Ada.Lovelace+shop@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace+shop@Example.COM");
        assert_eq!(email.key(), "ada.lovelace+shop@example.com");
    }

    #[test]
    fn malformed_addresses_say_what_is_wrong() {
        assert_eq!(Email::parse(" "), Err(EmailError::Empty));
        assert_eq!(Email::parse("ada.example.com"), Err(EmailError::At));
        assert_eq!(Email::parse("a@b@example.com"), Err(EmailError::At));
        assert_eq!(Email::parse("@example.com"), Err(EmailError::Local));
        assert_eq!(Email::parse("ada@"), Err(EmailError::Domain));
        assert_eq!(Email::parse("ada@localhost"), Err(EmailError::Domain));
        assert_eq!(Email::parse("ada@example..com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("ada@.example.com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("ada@-example.com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("a da@example.com"), Err(EmailError::Whitespace { position: 1 }));
        assert_eq!(Email::parse("ada\u{0}@example.com"), Err(EmailError::Control { position: 3 }));
        assert!(matches!(Email::parse("<ada@example.com>"), Err(EmailError::Character { found: '<', .. })));
        assert_eq!(Email::parse(&format!("{}@example.com", "a".repeat(65))), Err(EmailError::Local));
    }

    #[test]
    fn two_hundred_fifty_four_characters_are_the_limit() {
        let domain = format!("{}.com", "d".repeat(60));
        let at_limit =
            format!("{}@{}.{}.{}", "a".repeat(64), domain, domain, "e".repeat(254 - 64 - 1 - 2 * 64 - 2));
        assert_eq!(at_limit.chars().count(), 254);
        assert!(Email::parse(&at_limit).is_ok());
        assert!(matches!(Email::parse(&format!("x{at_limit}")), Err(EmailError::TooLong { len: 255, .. })));
    }
}
