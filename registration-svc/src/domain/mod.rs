//! Registration-svc's domain: values that cannot hold bad data, the registration state machine,
//! the saga's intents, and one error enum per operation. No tonic, no SQL.
//!
//! Requests are parsed from plain drafts ([`RegistrationDraft`], [`FilterDraft`]) that the gRPC
//! layer fills from the proto messages; every problem is a [`FieldError`] naming its field
//! (`registration.line_items[2].quantity`).

mod email;
mod errors;
mod field;
mod identifier;
mod intent;
mod line_item;
mod listing;
mod new_registration;
mod number;
mod patch;
mod registration;
mod status;
mod text;
mod warranty;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use email::{Email, EmailError, MAX_EMAIL_LEN};
pub use errors::{
    AbortSwapError, BeginError, CompleteError, CompleteSwapError, FailError, IntentError, RequestIdReused,
    ResetError, StoreError, SwapError, TransitionError, UpdateError,
};
pub use field::{FieldError, Problem};
pub use identifier::{IdError, IdentifierError, MAX_IDENTIFIER_LEN, RegistrationId, SerialNumber};
pub use intent::{Intent, IntentKind, IntentState, SwapAttempt, SwapOutcome, retry_delay};
pub use line_item::{LineItem, LineItemDraft, MAX_QUANTITY};
pub use listing::{Cursor, FilterDraft, Order, OrderError, PageBound, RegistrationFilter, RegistrationPage};
pub use new_registration::{
    CustomFields, MAX_CUSTOM_FIELD_KEY_LEN, MAX_CUSTOM_FIELD_VALUE_LEN, MAX_CUSTOM_FIELDS, MAX_LINE_ITEMS,
    MAX_PROOF_URLS, NewRegistration, RegistrationDraft,
};
pub use number::{MAX_PREFIX_LEN, MIN_SEQUENCE_DIGITS, NumberError, RegistrationNumber};
pub use patch::{RegistrationPatch, UpdatableField};
pub use registration::{Attempt, AttemptFailure, RegisteredLineItem, Registration, Started};
pub use status::{RegistrationStatus, ReviewPeriod, Transition};
pub use text::{
    DEFAULT_FORM_SLUG, FormSlug, HttpUrl, MAX_LONG_TEXT, MAX_SHORT_TEXT, MAX_URL_LEN, Text, TextError,
    UrlError,
};
pub use warranty::{SerialPlans, Warranty, WarrantyPlanTerms};

/// Who acts, for which organization, and when: every write is stamped with it.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The tenant: the token's `org`, never a request field.
    pub org: &'a str,
    /// The token's `sub`.
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
