//! Serial-svc's domain: values that cannot hold bad data, the rules of a serial's life, and one
//! error enum per operation. No tonic, no SQL.

mod batch;
mod catalog;
mod errors;
mod event;
mod identifier;
pub mod import;
mod serial;

use serde::{Deserialize, Serialize};

pub use batch::{
    BatchOutcome, BatchSizeError, CatalogRefs, ItemError, ItemReason, MAX_BATCH, check_batch_size,
    drop_repeats,
};
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
    parse_identifier,
};
pub use serial::{
    CustomerTags, InvalidReason, MAX_REASON_LEN, NewSerial, ReasonError, Serial, SerialStatus, TagError,
    ValidityWindow, WindowError, optional, parse_reason,
};

/// Who acts, for which organization, and when; the same in both services.
pub use shared::auth::Ctx;

/// A mutation's `request_id` and request fingerprint; the same in both services.
pub use shared::request_id::RequestKey;

/// `ListSerials` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialFilter {
    pub status: Option<SerialStatus>,
    pub product_sku: Option<Sku>,
}
