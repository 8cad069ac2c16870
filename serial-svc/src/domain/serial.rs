//! A serial's state and the rules that decide whether it can be registered.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::identifier::{IdentifierError, PlanId, SerialNumber, Sku};

/// Most customer tags on one serial.
pub const MAX_CUSTOMER_TAGS: usize = 32;
/// Longest customer tag, in characters.
pub const MAX_CUSTOMER_TAG_LEN: usize = 64;

/// When a serial may be registered: `valid_from <= now < valid_until`, and `now < register_until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidityWindow {
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub register_until: Option<DateTime<Utc>>,
}

/// A window whose end does not come after its start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("valid_until must be after valid_from")]
    UntilBeforeFrom,
    #[error("register_until must be after valid_from")]
    RegisterBeforeFrom,
}

impl WindowError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UntilBeforeFrom => "valid_until",
            Self::RegisterBeforeFrom => "register_until",
        }
    }
}

impl ValidityWindow {
    pub fn new(
        valid_from: Option<DateTime<Utc>>,
        valid_until: Option<DateTime<Utc>>,
        register_until: Option<DateTime<Utc>>,
    ) -> Result<Self, WindowError> {
        if let (Some(from), Some(until)) = (valid_from, valid_until)
            && until <= from
        {
            return Err(WindowError::UntilBeforeFrom);
        }
        if let (Some(from), Some(until)) = (valid_from, register_until)
            && until <= from
        {
            return Err(WindowError::RegisterBeforeFrom);
        }
        Ok(Self { valid_from, valid_until, register_until })
    }
}

/// Customer tags: at most 32, each 1-64 printable characters, surrounding whitespace trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerTags(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("at most {MAX_CUSTOMER_TAGS} tags, got {0}")]
    TooMany(usize),
    #[error("tag {index} must be 1-{MAX_CUSTOMER_TAG_LEN} printable characters")]
    Invalid { index: usize },
}

impl CustomerTags {
    pub fn parse(raw: &[String]) -> Result<Self, TagError> {
        if raw.len() > MAX_CUSTOMER_TAGS {
            return Err(TagError::TooMany(raw.len()));
        }
        raw.iter()
            .enumerate()
            .map(|(index, tag)| {
                let tag = tag.trim();
                let ok = !tag.is_empty()
                    && tag.chars().count() <= MAX_CUSTOMER_TAG_LEN
                    && !tag.chars().any(char::is_control);
                if ok { Ok(tag.to_owned()) } else { Err(TagError::Invalid { index }) }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// A serial to create, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSerial {
    pub number: SerialNumber,
    pub product_sku: Option<Sku>,
    pub warranty_plan_id: Option<PlanId>,
    pub window: ValidityWindow,
    pub customer_tags: CustomerTags,
}

#[cfg(test)]
impl NewSerial {
    /// `number` with nothing else set.
    pub fn bare(number: &str) -> Self {
        Self {
            number: SerialNumber::parse(number).expect("a valid serial number"),
            product_sku: None,
            warranty_plan_id: None,
            window: ValidityWindow::default(),
            customer_tags: CustomerTags::default(),
        }
    }
}

/// A stored serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serial {
    pub serial_number: String,
    pub product_sku: Option<String>,
    pub warranty_plan_id: Option<String>,
    pub window: ValidityWindow,
    pub customer_tags: Vec<String>,
    pub claimant: Option<String>,
    pub revoke_reason: Option<String>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub claim_time: Option<DateTime<Utc>>,
    pub revoke_time: Option<DateTime<Utc>>,
    pub allocate_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SerialStatus {
    Active,
    Registered,
    Expired,
    Revoked,
}

/// Why a serial cannot be registered now, in precedence order: when several apply, the first
/// listed here is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InvalidReason {
    NotFound,
    Revoked,
    AlreadyRegistered,
    NotYetValid,
    Expired,
    RegistrationPeriodEnded,
}

impl Serial {
    /// The status a reader sees at `now`: revoked, else registered, else expired, else active.
    pub fn status(&self, now: DateTime<Utc>) -> SerialStatus {
        if self.revoke_time.is_some() {
            SerialStatus::Revoked
        } else if self.claimant.is_some() {
            SerialStatus::Registered
        } else if self.window.valid_until.is_some_and(|until| now >= until) {
            SerialStatus::Expired
        } else {
            SerialStatus::Active
        }
    }

    /// Why `claimant` could not claim this serial at `now`, or `None` if it can. A serial already
    /// held by the same claimant is claimable (claims are idempotent by claimant).
    pub fn claim_refusal(&self, claimant: Option<&str>, now: DateTime<Utc>) -> Option<InvalidReason> {
        if self.revoke_time.is_some() {
            return Some(InvalidReason::Revoked);
        }
        if let Some(holder) = &self.claimant
            && Some(holder.as_str()) != claimant
        {
            return Some(InvalidReason::AlreadyRegistered);
        }
        let window = &self.window;
        if window.valid_from.is_some_and(|from| now < from) {
            Some(InvalidReason::NotYetValid)
        } else if window.valid_until.is_some_and(|until| now >= until) {
            Some(InvalidReason::Expired)
        } else if window.register_until.is_some_and(|until| now >= until) {
            Some(InvalidReason::RegistrationPeriodEnded)
        } else {
            None
        }
    }
}

/// Longest revocation reason, in characters.
pub const MAX_REASON_LEN: usize = 500;

/// Why a revocation reason is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_REASON_LEN} characters, got {0}")]
    TooLong(usize),
}

/// A revocation reason: 1-500 characters once trimmed.
pub fn parse_reason(raw: &str) -> Result<&str, ReasonError> {
    let reason = raw.trim();
    let len = reason.chars().count();
    if len == 0 {
        Err(ReasonError::Empty)
    } else if len > MAX_REASON_LEN {
        Err(ReasonError::TooLong(len))
    } else {
        Ok(reason)
    }
}

/// Parses an optional identifier field: empty means absent.
pub fn optional<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, IdentifierError>,
) -> Result<Option<T>, IdentifierError> {
    if raw.trim().is_empty() { Ok(None) } else { parse(raw).map(Some) }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn t(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, hour, 0, 0).unwrap()
    }

    fn serial(window: ValidityWindow) -> Serial {
        Serial {
            serial_number: "SN-1".into(),
            product_sku: None,
            warranty_plan_id: None,
            window,
            customer_tags: vec![],
            claimant: None,
            revoke_reason: None,
            create_time: t(0),
            update_time: t(0),
            claim_time: None,
            revoke_time: None,
            allocate_time: None,
        }
    }

    #[test]
    fn a_window_must_end_after_it_starts() {
        assert_eq!(ValidityWindow::new(Some(t(2)), Some(t(1)), None), Err(WindowError::UntilBeforeFrom));
        assert_eq!(ValidityWindow::new(Some(t(2)), Some(t(2)), None), Err(WindowError::UntilBeforeFrom));
        assert_eq!(ValidityWindow::new(Some(t(2)), None, Some(t(1))), Err(WindowError::RegisterBeforeFrom));
        assert!(ValidityWindow::new(None, Some(t(1)), None).is_ok());
    }

    #[test]
    fn refusals_follow_the_documented_precedence() {
        let window = ValidityWindow::new(Some(t(5)), Some(t(10)), Some(t(8))).unwrap();
        let mut s = serial(window);
        assert_eq!(s.claim_refusal(Some("r1"), t(4)), Some(InvalidReason::NotYetValid));
        assert_eq!(s.claim_refusal(Some("r1"), t(6)), None);
        assert_eq!(s.claim_refusal(Some("r1"), t(9)), Some(InvalidReason::RegistrationPeriodEnded));
        assert_eq!(s.claim_refusal(Some("r1"), t(10)), Some(InvalidReason::Expired));
        s.claimant = Some("r2".into());
        assert_eq!(s.claim_refusal(Some("r1"), t(4)), Some(InvalidReason::AlreadyRegistered));
        assert_eq!(s.claim_refusal(Some("r2"), t(6)), None);
        s.revoke_time = Some(t(1));
        assert_eq!(s.claim_refusal(Some("r2"), t(6)), Some(InvalidReason::Revoked));
    }

    #[test]
    fn status_is_revoked_then_registered_then_expired_then_active() {
        let mut s = serial(ValidityWindow::new(None, Some(t(10)), None).unwrap());
        assert_eq!(s.status(t(9)), SerialStatus::Active);
        assert_eq!(s.status(t(10)), SerialStatus::Expired);
        s.claimant = Some("r".into());
        assert_eq!(s.status(t(10) + Duration::hours(1)), SerialStatus::Registered);
        s.revoke_time = Some(t(11));
        assert_eq!(s.status(t(9)), SerialStatus::Revoked);
    }

    #[test]
    fn a_revocation_reason_is_trimmed_and_bounded() {
        assert_eq!(parse_reason("  stolen "), Ok("stolen"));
        assert_eq!(parse_reason("   "), Err(ReasonError::Empty));
        assert!(parse_reason(&"r".repeat(500)).is_ok());
        assert_eq!(parse_reason(&"r".repeat(501)), Err(ReasonError::TooLong(501)));
    }

    #[test]
    fn customer_tags_are_trimmed_and_bounded() {
        assert_eq!(CustomerTags::parse(&[" vip ".into()]).unwrap().as_slice(), ["vip"]);
        assert_eq!(CustomerTags::parse(&["".into()]), Err(TagError::Invalid { index: 0 }));
        assert_eq!(CustomerTags::parse(&vec!["a".into(); 33]), Err(TagError::TooMany(33)));
    }
}
