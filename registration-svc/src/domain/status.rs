//! A registration's life.
//!
//! ```text
//!              approve
//!  PENDING ------------------> APPROVED
//!   |  |  \ deny                   |
//!   |  |   `---------> DENIED      | cancel, reset
//!   |  | expire                    v
//!   |  `-------------> EXPIRED   CANCELED
//!   `--- cancel, reset ----------> CANCELED
//! ```
//!
//! A registration is written PENDING, once its serials are claimed: before that, and if it
//! never gets there, it is only a creation attempt (see [`Attempt`](super::Attempt)). The five
//! states map one to one onto `REGISTRATION_STATUS_*`.
//!
//! A registration holds its serials while PENDING or APPROVED; every transition out of those
//! (deny, expire, cancel, reset) releases them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where a registration is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegistrationStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Canceled,
}

impl RegistrationStatus {
    /// Every state.
    pub const ALL: [Self; 5] = [Self::Pending, Self::Approved, Self::Denied, Self::Expired, Self::Canceled];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether a registration in this state holds (has claimed) its serials.
    pub fn holds_serials(self) -> bool {
        matches!(self, Self::Pending | Self::Approved)
    }
}

/// A change of state. The store checks [`Transition::allowed_from`] in the database, in the
/// conditional `UPDATE` that makes the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// PENDING -> APPROVED.
    Approve,
    /// PENDING -> DENIED.
    Deny,
    /// PENDING or APPROVED -> CANCELED.
    Cancel,
    /// PENDING -> EXPIRED, once pending longer than the review period.
    Expire,
    /// PENDING or APPROVED -> CANCELED with the customer's data erased.
    Reset,
}

impl Transition {
    /// The states the transition may start from.
    pub fn allowed_from(self) -> &'static [RegistrationStatus] {
        use RegistrationStatus::*;
        match self {
            Self::Approve | Self::Deny | Self::Expire => &[Pending],
            Self::Cancel | Self::Reset => &[Pending, Approved],
        }
    }

    /// The state it leads to.
    pub fn target(self) -> RegistrationStatus {
        use RegistrationStatus::*;
        match self {
            Self::Approve => Approved,
            Self::Deny => Denied,
            Self::Expire => Expired,
            Self::Cancel | Self::Reset => Canceled,
        }
    }

    /// Whether a registration in `from` may take this transition.
    pub fn allows(self, from: RegistrationStatus) -> bool {
        self.allowed_from().contains(&from)
    }

    /// Whether the transition gives back the serials the registration holds (a `release` intent
    /// per serial, written with it).
    pub fn releases_serials(self) -> bool {
        let from_holding = self.allowed_from().iter().any(|s| s.holds_serials());
        from_holding && !self.target().holds_serials()
    }
}

/// How long a registration may stay PENDING before it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPeriod(Duration);

impl ReviewPeriod {
    /// 30 days, the API's default.
    pub const DEFAULT_DAYS: i64 = 30;

    /// `None` unless the period is positive.
    pub fn new(period: Duration) -> Option<Self> {
        (period > Duration::zero()).then_some(Self(period))
    }

    pub fn get(self) -> Duration {
        self.0
    }

    /// Registrations created at or before this instant are overdue at `now`.
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_signed(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

impl Default for ReviewPeriod {
    fn default() -> Self {
        Self(Duration::days(Self::DEFAULT_DAYS))
    }
}

#[cfg(test)]
mod tests {
    use super::RegistrationStatus::*;
    use super::*;

    #[test]
    fn review_moves_only_from_pending_and_cancel_also_from_approved() {
        for t in [Transition::Approve, Transition::Deny, Transition::Expire] {
            assert!(t.allows(Pending));
            assert!(!t.allows(Approved) && !t.allows(Canceled));
        }
        assert!(Transition::Cancel.allows(Pending) && Transition::Cancel.allows(Approved));
        assert!(!Transition::Cancel.allows(Denied) && !Transition::Cancel.allows(Canceled));
    }

    #[test]
    fn only_leaving_pending_or_approved_releases_serials() {
        let releasing: Vec<_> = [
            Transition::Approve,
            Transition::Deny,
            Transition::Cancel,
            Transition::Expire,
            Transition::Reset,
        ]
        .into_iter()
        .filter(|t| t.releases_serials())
        .collect();
        assert_eq!(releasing, [Transition::Deny, Transition::Cancel, Transition::Expire, Transition::Reset]);
    }

    #[test]
    fn states_round_trip_through_the_database() {
        for s in [Pending, Approved, Denied, Expired, Canceled] {
            assert_eq!(RegistrationStatus::from_db(s.as_str()), Some(s));
        }
        assert_eq!(RegistrationStatus::from_db("PENDING"), None);
        assert_eq!(RegistrationStatus::from_db("claiming"), None, "attempts are not registrations");
    }

    #[test]
    fn the_review_period_defaults_to_thirty_days() {
        let now = DateTime::from_timestamp(86_400 * 100, 0).unwrap();
        assert_eq!(ReviewPeriod::default().cutoff(now), now - Duration::days(30));
        assert_eq!(ReviewPeriod::new(Duration::zero()), None);
    }
}
