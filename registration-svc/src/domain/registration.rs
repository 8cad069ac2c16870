//! A stored registration, and why an attempt to make or change one failed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::identifier::RegistrationId;
use super::status::RegistrationStatus;
use super::warranty::Warranty;

/// A stored line item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredLineItem {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub quantity: i32,
    pub product_id: Option<String>,
    pub variant_id: Option<String>,
    pub source_line_item_id: Option<String>,
    pub image_url: Option<String>,
    /// As written at creation (or by the swap that put it there); `None` for a non-serialized
    /// product.
    pub serial_number: Option<String>,
    /// The serial's warranty, once the registration is PENDING and if the serial has a plan.
    pub warranty: Option<Warranty>,
    /// The serial's customer tags, as serial-svc had them when the serial was claimed (by the
    /// creation, or by the swap that put it there); empty without a serial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_tags: Vec<String>,
}

/// A stored registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub org_id: String,
    /// Assigned when it is written; `None` only before (see [`NewRegistration::requested`](super::NewRegistration::requested)).
    pub registration_number: Option<String>,
    pub status: RegistrationStatus,
    /// Empty once a reset erased the customer's data.
    pub customer_email: String,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub channel_name: Option<String>,
    pub form_slug: String,
    /// In the order of the request.
    pub line_items: Vec<RegisteredLineItem>,
    pub customer_provided_order_number: Option<String>,
    pub purchase_date: Option<DateTime<Utc>>,
    pub referrer: Option<String>,
    pub email_marketing_consent: bool,
    pub email_marketing_consent_time: Option<DateTime<Utc>>,
    pub custom_fields: BTreeMap<String, String>,
    pub proof_of_purchase_urls: Vec<String>,
    /// The first serialized line item's warranty.
    pub warranty: Option<Warranty>,
    pub denial_reason: Option<String>,
    /// When it was written PENDING (list order and the start of the review period).
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    /// When it was approved or denied.
    pub review_time: Option<DateTime<Utc>>,
    pub cancel_time: Option<DateTime<Utc>>,
}

impl Registration {
    /// The customer tags of its serials: each line item's in order, each tag once (the first
    /// time it appears), compared exactly.
    pub fn customer_tags(&self) -> Vec<String> {
        customer_tags(&self.line_items)
    }

    /// The serial numbers of the line items that have one, in order.
    pub fn serial_numbers(&self) -> impl Iterator<Item = &str> {
        self.line_items.iter().filter_map(|item| item.serial_number.as_deref())
    }
}

/// The customer tags of `items`' serials, in line item order, each tag once (compared exactly,
/// case included, as serial-svc stores them).
pub fn customer_tags(items: &[RegisteredLineItem]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in items.iter().flat_map(|item| &item.customer_tags) {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags
}

/// A registration's warranty: its first serialized line item's (none without a serial, or when
/// that serial has no plan), so that a non-serialized product listed first changes nothing.
pub fn registration_warranty(items: &[RegisteredLineItem]) -> Option<Warranty> {
    items.iter().find(|item| item.serial_number.is_some()).and_then(|item| item.warranty.clone())
}

/// Why a creation or swap attempt failed, kept so that a retry with the same `request_id` can
/// answer the same error. `code` is the caller's machine-readable reason (such as
/// `SERIAL_ALREADY_REGISTERED`); the store does not interpret it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptFailure {
    pub code: String,
    /// The serial the failure is about, if any.
    pub serial_number: Option<String>,
    pub message: String,
    /// What else the failure names (ErrorInfo metadata beside the serial), such as the `sku`
    /// and `product_sku` of a [`SERIAL_PRODUCT_MISMATCH`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// The reason of a line item whose `sku` is not its serial's product.
pub const SERIAL_PRODUCT_MISMATCH: &str = "SERIAL_PRODUCT_MISMATCH";
/// The code of an attempt that was left open and rolled back (never shown: a retry with its
/// `request_id` restarts it).
const ROLLED_BACK: &str = "ATTEMPT_ROLLED_BACK";

impl AttemptFailure {
    /// A failure about `serial_number` (if any) with nothing else to name.
    pub fn new(code: &str, serial_number: Option<&str>, message: String) -> Self {
        Self {
            code: code.to_owned(),
            serial_number: serial_number.map(str::to_owned),
            message,
            metadata: BTreeMap::new(),
        }
    }

    /// An attempt left open (its caller answered UNAVAILABLE, or a crash) and rolled back.
    pub fn rolled_back() -> Self {
        Self::new(ROLLED_BACK, None, "the attempt was left open and rolled back".into())
    }

    /// Whether this is a rollback rather than a refusal: the attempt may restart.
    pub fn is_rolled_back(&self) -> bool {
        self.code == ROLLED_BACK
    }

    /// `serial`, whose product is `product_sku`, registered on a line item of `sku`.
    pub fn product_mismatch(serial: &str, sku: &str, product_sku: &str) -> Self {
        let message =
            format!("serial {serial} is of product {product_sku}, not of the line item's sku {sku}");
        let metadata = [("sku", sku), ("product_sku", product_sku)];
        Self {
            metadata: metadata.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            ..Self::new(SERIAL_PRODUCT_MISMATCH, Some(serial), message)
        }
    }
}

/// What a multi-step operation's first call found: a fresh start, or the attempt that an
/// earlier call with the same `request_id` began (in whatever state it is now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started<T> {
    Fresh(T),
    Replay(T),
}

impl<T> Started<T> {
    pub fn is_replay(&self) -> bool {
        matches!(self, Self::Replay(_))
    }

    pub fn get(&self) -> &T {
        match self {
            Self::Fresh(t) | Self::Replay(t) => t,
        }
    }

    pub fn into_inner(self) -> T {
        match self {
            Self::Fresh(t) | Self::Replay(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(tags: &[&str]) -> RegisteredLineItem {
        RegisteredLineItem {
            sku: None,
            name: None,
            quantity: 1,
            product_id: None,
            variant_id: None,
            source_line_item_id: None,
            image_url: None,
            serial_number: (!tags.is_empty()).then(|| "SN".to_owned()),
            warranty: None,
            customer_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn customer_tags_are_deduplicated_in_line_item_order_and_compared_exactly() {
        let items = [item(&["vip", "beta"]), item(&[]), item(&["Beta", "vip", "fleet"]), item(&["beta"])];
        assert_eq!(customer_tags(&items), ["vip", "beta", "Beta", "fleet"]);
        assert!(customer_tags(&[item(&[])]).is_empty());
    }
}
