//! One error enum per operation. `Store` carries database failures, which the gRPC layer logs
//! and answers as INTERNAL; every other variant is an answer for the caller.

use super::serial::InvalidReason;

/// A database failure: the cause is logged, never sent to the caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The failure of a statement that answered several lookups at once.
    #[error("database error")]
    Shared(#[source] std::sync::Arc<sqlx::Error>),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The database could not be reached, refused connections or is shutting down: the call is
    /// worth retrying later (UNAVAILABLE), unlike a bug or bad data (INTERNAL).
    pub fn is_unavailable(&self) -> bool {
        let err = match self {
            Self::Database(err) => err,
            Self::Shared(err) => &**err,
            Self::Corrupt(_) => return false,
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                // 08: connection exceptions; 57P: operator intervention (shutdown, terminated
                // backend); 53300: too many connections.
                db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300")
                    || db.message().contains("not currently accepting connections")
            }
            _ => false,
        }
    }
}

/// The same `request_id` came with a different request.
#[derive(Debug, thiserror::Error)]
#[error("request_id was already used for a different request")]
pub struct RequestIdReused;

/// The conversions every operation error has: database failures and request id reuse.
macro_rules! operation_error_conversions {
    ($($name:ident),*) => {$(
        impl From<sqlx::Error> for $name {
            fn from(err: sqlx::Error) -> Self {
                Self::Store(StoreError::Database(err))
            }
        }

        impl From<RequestIdReused> for $name {
            fn from(_: RequestIdReused) -> Self {
                Self::RequestIdReused
            }
        }
    )*};
}

/// `ClaimSerial`.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("serial not found")]
    NotFound,
    #[error("serial cannot be claimed: {0:?}")]
    Refused(InvalidReason),
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `ReleaseSerial`.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("serial not found")]
    NotFound,
    #[error("serial is held by another claimant")]
    NotClaimant,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `AllocateSerial`.
#[derive(Debug, thiserror::Error)]
pub enum AllocateError {
    #[error("no serial is available")]
    NoneAvailable,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `RevokeSerial`.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("serial not found")]
    NotFound,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `BatchCreateSerials`.
#[derive(Debug, thiserror::Error)]
pub enum BatchCreateError {
    /// `atomic` was set and at least one item failed: nothing was created.
    #[error("batch rejected")]
    Rejected { errors: Vec<super::batch::ItemError> },
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `CreateProduct`.
#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    #[error("product already exists")]
    AlreadyExists,
    #[error("parent product not found")]
    UnknownParent,
    #[error("warranty plan not found")]
    UnknownPlan,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `CreateWarrantyPlan`.
#[derive(Debug, thiserror::Error)]
pub enum CreatePlanError {
    #[error("warranty plan already exists")]
    AlreadyExists,
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

operation_error_conversions!(
    ClaimError,
    ReleaseError,
    AllocateError,
    RevokeError,
    BatchCreateError,
    CreateProductError,
    CreatePlanError
);
