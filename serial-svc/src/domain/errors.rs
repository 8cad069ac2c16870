//! One error enum per operation. `Store` carries database failures, which the gRPC layer logs
//! and answers as INTERNAL; every other variant is an answer for the caller. The store's
//! conversions into them are in `store/errors.rs`.

use super::serial::InvalidReason;
/// The database failure and request id reuse are the same in both services.
pub use shared::db::{RequestIdReused, StoreError};

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
