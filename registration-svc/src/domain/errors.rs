//! One error enum per operation. `Store` carries database failures, which the gRPC layer logs
//! and answers as INTERNAL (or UNAVAILABLE, see [`StoreError::is_unavailable`]); every other
//! variant is an answer for the caller.

use super::attempt::AttemptState;
use super::status::RegistrationStatus;
/// The database failure and request id reuse are the same in both services.
pub use shared::db::{RequestIdReused, StoreError};

/// Operations that take a `request_id`: reuse becomes the `RequestIdReused` variant.
macro_rules! request_id_conversions {
    ($($name:ident),*) => {$(
        impl From<RequestIdReused> for $name {
            fn from(_: RequestIdReused) -> Self {
                Self::RequestIdReused
            }
        }
    )*};
}

/// `begin_attempt` and `register_without_serials`.
#[derive(Debug, thiserror::Error)]
pub enum BeginError {
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `complete_registration`.
#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    /// No such attempt open, failed or completed.
    #[error("registration attempt not found")]
    NotFound,
    /// The attempt was failed before it could complete.
    #[error("registration attempt already failed")]
    Failed,
    /// Another registration of the org holds one of the serials: serial-svc let two claimants
    /// have it, or the caller completed without claiming. Nothing was written.
    #[error("serial {serial_number} is held by another registration")]
    SerialHeld { serial_number: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `restart_attempt`.
#[derive(Debug, thiserror::Error)]
pub enum RestartError {
    #[error("registration attempt not found")]
    NotFound,
    /// The rollback's releases are not all done yet: a claim now could be undone by one.
    #[error("the rollback of the attempt is still under way")]
    RollbackUnderWay,
    /// The attempt is not a rolled-back one (it is open, completed, or was refused).
    #[error("the attempt was not rolled back (now {state:?})")]
    NotRolledBack { state: AttemptState },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `fail_attempt`.
#[derive(Debug, thiserror::Error)]
pub enum FailError {
    #[error("registration attempt not found")]
    NotFound,
    /// The attempt completed before it could be failed.
    #[error("registration attempt already completed")]
    Completed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `record_intent_done` and `record_intent_failure`.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    #[error("intent not found")]
    NotFound,
    /// A swap's claim is closed by `complete_swap` or `abort_swap`, not recorded done.
    #[error("a swap's claim is closed by completing or aborting the swap")]
    SwapClaim,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `update_registration`.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("registration not found")]
    NotFound,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The review transitions: `approve_registration`, `deny_registration`,
/// `cancel_registration` and `expire_registration` (one state machine, one set of answers).
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("registration not found")]
    NotFound,
    #[error("registration is {from:?}, which does not allow this")]
    InvalidTransition { from: RegistrationStatus },
    /// Expire only: the registration has not been pending for the review period yet.
    #[error("registration is not past its review period")]
    NotDue,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `begin_swap`.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("the new serial is the serial it replaces")]
    SameSerial,
    /// No registration holds the serial to replace.
    #[error("no registration holds the serial")]
    NotHeld,
    /// A registration of the org (maybe this one) already holds the new serial.
    #[error("the new serial is held by a registration")]
    NewSerialHeld,
    /// The registration has a swap in flight: one at a time.
    #[error("another swap of this registration is in flight")]
    SwapInFlight,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `complete_swap`.
#[derive(Debug, thiserror::Error)]
pub enum CompleteSwapError {
    #[error("swap not found")]
    NotFound,
    #[error("swap already aborted")]
    Aborted,
    /// The registration stopped holding the old serial (canceled, denied, expired, reset)
    /// while the new one was claimed: abort the swap, which releases the new serial.
    #[error("the registration no longer holds the serial being replaced")]
    NoLongerHeld,
    /// Another registration of the org holds the new serial. Nothing was written.
    #[error("the new serial is held by another registration")]
    NewSerialHeld,
    /// The new serial's product is not the line item's SKU: abort the swap, which releases the
    /// new serial. Nothing was written.
    #[error("the new serial is of product {product_sku}, the line item of sku {sku}")]
    ProductMismatch { sku: String, product_sku: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `abort_swap`.
#[derive(Debug, thiserror::Error)]
pub enum AbortSwapError {
    #[error("swap not found")]
    NotFound,
    #[error("swap already completed")]
    Completed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `reset_serial`.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// No registration holds the serial.
    #[error("no registration holds the serial")]
    NotHeld,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

request_id_conversions!(BeginError, UpdateError, TransitionError, SwapError, ResetError);
