//! Serial numbers (the same rules as serial-svc's) and registration ids.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Serial numbers follow serial-svc's rules, shared with it.
pub use shared::serial_number::{IdentifierError, MAX_IDENTIFIER_LEN, SerialNumber};

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
    fn registration_ids_are_uuids_in_canonical_form() {
        let id = RegistrationId::generate();
        assert_eq!(Uuid::parse_str(id.as_str()).unwrap().get_version_num(), 7);
        let upper = id.as_str().to_ascii_uppercase();
        assert_eq!(RegistrationId::parse(&format!(" {upper} ")), Ok(id.clone()));
        assert_eq!(RegistrationId::parse("not-a-uuid"), Err(IdError));
        assert_eq!(RegistrationId::parse(""), Err(IdError));
    }
}
