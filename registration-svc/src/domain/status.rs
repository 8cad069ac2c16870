//! A registration's life.
//!
//! ```text
//!              complete                approve
//!  CLAIMING ------------> PENDING ------------------> APPROVED
//!     |                   |  |  \ deny                   |
//!   ^ | fail              |  |   `---------> DENIED      | cancel, reset
//!   | v                   |  | expire                    v
//!   FAILED                |  `-------------> EXPIRED   CANCELED
//!   restart (rolled back only)
//!                         `--- cancel, reset ----------> CANCELED
//! ```
//!
//! CLAIMING and FAILED are internal: CLAIMING is an attempt whose serials are being claimed
//! from serial-svc, FAILED one that was refused or rolled back (its claims are being
//! released). An attempt left open (its caller answered UNAVAILABLE, or cut short by a crash)
//! is only ever rolled back, never completed behind its caller's back; a retry with its
//! `request_id` restarts it, FAILED -> CLAIMING, once the rollback's releases are done. Neither is
//! ever shown: reads by id, number or serial answer "not found" for them and lists skip them;
//! only the saga's own calls (`begin_registration`, `get_attempt`, …) see them. The five
//! public states map one to one onto `REGISTRATION_STATUS_*`.
//!
//! A registration holds its serials while PENDING or APPROVED; every transition out of those
//! (deny, expire, cancel, reset) releases them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where a registration is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegistrationStatus {
    /// Internal: the attempt is claiming its serials.
    Claiming,
    Pending,
    Approved,
    Denied,
    Expired,
    Canceled,
    /// Internal: the attempt was refused; nothing of it is shown.
    Failed,
}

impl RegistrationStatus {
    /// The states the API shows.
    pub const PUBLIC: [Self; 5] =
        [Self::Pending, Self::Approved, Self::Denied, Self::Expired, Self::Canceled];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claiming => "claiming",
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Claiming, Self::Failed].into_iter().chain(Self::PUBLIC).find(|s| s.as_str() == value)
    }

    /// Whether the API shows registrations in this state.
    pub fn is_public(self) -> bool {
        !matches!(self, Self::Claiming | Self::Failed)
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
    /// Every serial is claimed: CLAIMING -> PENDING, a number is assigned.
    Complete,
    /// A claim was refused, or the attempt was rolled back: CLAIMING -> FAILED.
    Fail,
    /// A rolled-back attempt retried with its `request_id`: FAILED -> CLAIMING.
    Restart,
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
            Self::Complete | Self::Fail => &[Claiming],
            Self::Restart => &[Failed],
            Self::Approve | Self::Deny | Self::Expire => &[Pending],
            Self::Cancel | Self::Reset => &[Pending, Approved],
        }
    }

    /// The state it leads to.
    pub fn target(self) -> RegistrationStatus {
        use RegistrationStatus::*;
        match self {
            Self::Complete => Pending,
            Self::Fail => Failed,
            Self::Restart => Claiming,
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
    /// per serial, written with it). A failed attempt holds nothing, but the store still writes
    /// `release` intents for the claims that may have succeeded before the refusal.
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
            assert!(!t.allows(Approved) && !t.allows(Canceled) && !t.allows(Claiming));
        }
        assert!(Transition::Cancel.allows(Pending) && Transition::Cancel.allows(Approved));
        assert!(!Transition::Cancel.allows(Denied) && !Transition::Cancel.allows(Canceled));
        assert!(Transition::Complete.allows(Claiming) && !Transition::Complete.allows(Failed));
        assert!(Transition::Restart.allows(Failed) && !Transition::Restart.allows(Pending));
        assert_eq!(Transition::Restart.target(), Claiming);
    }

    #[test]
    fn only_leaving_pending_or_approved_releases_serials() {
        let releasing: Vec<_> = [
            Transition::Complete,
            Transition::Fail,
            Transition::Restart,
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
    fn internal_states_are_not_public_and_round_trip_through_the_database() {
        assert!(!Claiming.is_public() && !Failed.is_public());
        assert!(RegistrationStatus::PUBLIC.iter().all(|s| s.is_public()));
        for s in [Claiming, Pending, Approved, Denied, Expired, Canceled, Failed] {
            assert_eq!(RegistrationStatus::from_db(s.as_str()), Some(s));
        }
        assert_eq!(RegistrationStatus::from_db("PENDING"), None);
    }

    #[test]
    fn the_review_period_defaults_to_thirty_days() {
        let now = DateTime::from_timestamp(86_400 * 100, 0).unwrap();
        assert_eq!(ReviewPeriod::default().cutoff(now), now - Duration::days(30));
        assert_eq!(ReviewPeriod::new(Duration::zero()), None);
    }
}
