//! A creation attempt: the request, kept from its arrival until it is answered for good, and
//! after that as the creation's idempotency record (ARCHITECTURE.md, "Claiming a serial across
//! two services"). The registration itself is written once, when the attempt completes, with
//! the attempt's id.

use chrono::{DateTime, Utc};

use super::identifier::{RegistrationId, SerialNumber};
use super::intent::{Intent, IntentKind, IntentState};
use super::registration::AttemptFailure;

/// Where an attempt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptState {
    /// Its serials are being claimed, or it was left open (UNAVAILABLE, a crash) for the
    /// recovery worker to roll back.
    Open,
    /// The registration exists, PENDING when it was written.
    Completed,
    /// Refused (a serial could not be claimed), or rolled back; see [`Attempt::failure`].
    Failed,
}

impl AttemptState {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Open, Self::Completed, Self::Failed].into_iter().find(|s| s.as_str() == value)
    }
}

/// A creation attempt. Its id is the claimant in serial-svc and becomes the registration's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: RegistrationId,
    pub org_id: String,
    pub state: AttemptState,
    /// The serials to claim, as the request spells them, in line item order.
    pub serial_numbers: Vec<SerialNumber>,
    /// Why it failed (FAILED only).
    pub failure: Option<AttemptFailure>,
    /// While open: not to be rolled back by the recovery worker before this.
    pub lease_until: Option<DateTime<Utc>>,
    /// The `release` intents written for it (after a failure: the serials that may have been
    /// claimed), oldest first.
    pub intents: Vec<Intent>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl Attempt {
    /// Whether the attempt was left open and rolled back (FAILED, not refused): a retry with
    /// its `request_id` may start it again.
    pub fn is_rolled_back(&self) -> bool {
        self.state == AttemptState::Failed
            && self.failure.as_ref().is_some_and(AttemptFailure::is_rolled_back)
    }

    /// The releases still owed to serial-svc.
    pub fn pending_releases(&self) -> impl Iterator<Item = &Intent> {
        self.intents.iter().filter(|i| i.kind == IntentKind::Release && i.state == IntentState::Pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_the_database() {
        for state in [AttemptState::Open, AttemptState::Completed, AttemptState::Failed] {
            assert_eq!(AttemptState::from_db(state.as_str()), Some(state));
        }
        assert_eq!(AttemptState::from_db("claiming"), None);
    }
}
