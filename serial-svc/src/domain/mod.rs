//! Serial-svc's domain: values that cannot hold bad data, the rules of a serial's life, and one
//! error enum per operation. No tonic, no SQL.

mod batch;
mod catalog;
mod errors;
mod event;
mod identifier;
mod serial;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use batch::{BatchOutcome, ItemError, ItemReason, MAX_BATCH, drop_repeats};
pub use catalog::{
    DurationMonths, MAX_DURATION_MONTHS, Name, NameError, NewProduct, NewWarrantyPlan, Product, WarrantyPlan,
};
pub use errors::{
    AllocateError, BatchCreateError, ClaimError, CreatePlanError, CreateProductError, ReleaseError,
    RequestIdReused, RevokeError, StoreError,
};
pub use event::{EventKind, SerialEvent};
pub use identifier::{
    Claimant, IdentifierError, MAX_CLAIMANT_LEN, MAX_IDENTIFIER_LEN, PlanId, SerialNumber, Sku,
};
pub use serial::{
    CustomerTags, InvalidReason, NewSerial, Serial, SerialStatus, TagError, ValidityWindow, WindowError,
    optional,
};

/// Longest revocation reason, in characters.
pub const MAX_REASON_LEN: usize = 500;

/// Who acts, for which organization, and when: every write is stamped with it.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub org: &'a str,
    /// The token's `sub`, recorded in the serial's history.
    pub actor: &'a str,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A mutation's `request_id` with a fingerprint of the method and request it came with, so a
/// retry replays the first answer and a different request with the same id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestKey {
    pub request_id: Uuid,
    pub fingerprint: [u8; 32],
}

/// `ListSerials` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialFilter {
    pub status: Option<SerialStatus>,
    pub product_sku: Option<Sku>,
}
