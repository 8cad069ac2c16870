//! Registration-svc's domain: values that cannot hold bad data, the registration state machine,
//! the saga's intents, and one error enum per operation. No tonic, no SQL.
//!
//! Requests are parsed from plain drafts ([`RegistrationDraft`], [`FilterDraft`]) that the gRPC
//! layer fills from the proto messages; every problem is a [`FieldError`] naming its field
//! (`registration.line_items[2].quantity`).

mod attempt;
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

pub use attempt::{Attempt, AttemptState};
pub use email::{Email, EmailError, MAX_EMAIL_LEN};
pub use errors::{
    AbortSwapError, BeginError, CompleteError, CompleteSwapError, FailError, IntentError, RequestIdReused,
    ResetError, RestartError, StoreError, SwapError, TransitionError, UpdateError,
};
pub use field::{FieldError, Problem};
pub use identifier::{IdError, IdentifierError, MAX_IDENTIFIER_LEN, RegistrationId, SerialNumber};
pub use intent::{Intent, IntentKind, IntentState, SwapAttempt, SwapOutcome, retry_delay};
pub use line_item::{LineItem, LineItemDraft, MAX_QUANTITY, SerialFacts, sku_fits};
pub use listing::{
    Cursor, FilterDraft, MAX_CUSTOMER_TAG_LEN, Order, OrderError, PageBound, RegistrationFilter,
    RegistrationPage,
};
pub use new_registration::{
    CustomFields, MAX_BATCH, MAX_CUSTOM_FIELD_KEY_LEN, MAX_CUSTOM_FIELD_VALUE_LEN, MAX_CUSTOM_FIELDS,
    MAX_LINE_ITEMS, MAX_PROOF_URLS, NewRegistration, RegistrationDraft,
};
pub use number::{MAX_PREFIX_LEN, MIN_SEQUENCE_DIGITS, NumberError, RegistrationNumber};
pub use patch::{RegistrationPatch, UpdatableField};
pub use registration::{
    AttemptFailure, RegisteredLineItem, Registration, SERIAL_PRODUCT_MISMATCH, Started, customer_tags,
    registration_warranty,
};
pub use status::{RegistrationStatus, ReviewPeriod, Transition};
pub use text::{
    DEFAULT_FORM_SLUG, FormSlug, HttpUrl, MAX_LONG_TEXT, MAX_SHORT_TEXT, MAX_URL_LEN, Text, TextError,
    UrlError,
};
pub use warranty::{SerialPlans, Warranty, WarrantyPlanTerms};

/// Who acts, for which organization, and when; the same in both services.
pub use shared::auth::Ctx;

/// A mutation's `request_id` and request fingerprint; the same in both services.
pub use shared::request_id::RequestKey;
