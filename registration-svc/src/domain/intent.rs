//! The saga's steps: each call registration-svc owes serial-svc, written in the same
//! transaction as the change that owes it, so that a crash cannot lose a claim or a release.
//!
//! - A creation claims its serials without intents: its attempt row stands for them (see
//!   [`Attempt`](super::Attempt)); a failed attempt writes `release` intents of its id.
//! - A swap writes one `claim` of the new serial with `replaces` set; `complete_swap` or
//!   `abort_swap` closes it.
//! - Deny, expire, cancel, reset, a failed attempt and a completed swap write `release`
//!   intents, due at once; whoever releases the serial records it done.
//!
//! The claimant in serial-svc is always the registration id (the attempt's, for a creation).

use chrono::{DateTime, Duration, Utc};

use super::identifier::{RegistrationId, SerialNumber};
use super::registration::AttemptFailure;

/// What is owed to serial-svc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntentKind {
    /// `ClaimSerial(serial_number, claimant = registration_id)`.
    Claim,
    /// `ReleaseSerial(serial_number, claimant = registration_id, replaced_by)`.
    Release,
}

impl IntentKind {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claim => "claim",
            Self::Release => "release",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Claim, Self::Release].into_iter().find(|k| k.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntentState {
    Pending,
    Done,
}

impl IntentState {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Pending, Self::Done].into_iter().find(|s| s.as_str() == value)
    }
}

/// One step of the saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: i64,
    pub org_id: String,
    /// Also the claimant.
    pub registration_id: RegistrationId,
    pub kind: IntentKind,
    pub serial_number: SerialNumber,
    /// A swap's claim: the serial the new one replaces.
    pub replaces: Option<SerialNumber>,
    /// A swap's release: the serial that replaced this one (serial-svc records a swap).
    pub replaced_by: Option<SerialNumber>,
    pub state: IntentState,
    /// Failed tries so far.
    pub attempts: i32,
    /// Not to be tried before this (a lease, or the backoff after a failure).
    pub next_attempt_time: DateTime<Utc>,
    pub last_error: Option<String>,
    /// A swap's claim that was aborted: why.
    pub failure: Option<AttemptFailure>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl Intent {
    /// Whether this is the claim of a swap (closed only by `complete_swap` / `abort_swap`).
    pub fn is_swap_claim(&self) -> bool {
        self.kind == IntentKind::Claim && self.replaces.is_some()
    }
}

/// Where a swap is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwapOutcome {
    /// The new serial is being claimed.
    InFlight,
    /// The line item holds the new serial; the old one is being released.
    Completed,
    /// The claim was refused or given up: nothing changed.
    Aborted(AttemptFailure),
}

/// A swap, identified by the claim intent of its new serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapAttempt {
    pub claim: Intent,
}

impl SwapAttempt {
    pub fn outcome(&self) -> SwapOutcome {
        match (self.claim.state, &self.claim.failure) {
            (IntentState::Pending, _) => SwapOutcome::InFlight,
            (IntentState::Done, None) => SwapOutcome::Completed,
            (IntentState::Done, Some(failure)) => SwapOutcome::Aborted(failure.clone()),
        }
    }
}

/// How long to wait before trying an intent again after `attempts` failed tries: 1 s doubling
/// up to 5 minutes.
pub fn retry_delay(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::seconds(2_i64.pow(exponent)).min(Duration::minutes(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_a_second_to_five_minutes() {
        assert_eq!(retry_delay(0), Duration::seconds(1));
        assert_eq!(retry_delay(1), Duration::seconds(1));
        assert_eq!(retry_delay(2), Duration::seconds(2));
        assert_eq!(retry_delay(5), Duration::seconds(16));
        assert_eq!(retry_delay(9), Duration::seconds(256));
        assert_eq!(retry_delay(10), Duration::minutes(5));
        assert_eq!(retry_delay(i32::MAX), Duration::minutes(5));
    }

    #[test]
    fn kinds_and_states_round_trip_through_the_database() {
        for kind in [IntentKind::Claim, IntentKind::Release] {
            assert_eq!(IntentKind::from_db(kind.as_str()), Some(kind));
        }
        for state in [IntentState::Pending, IntentState::Done] {
            assert_eq!(IntentState::from_db(state.as_str()), Some(state));
        }
    }
}
