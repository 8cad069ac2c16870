//! Per-item outcomes of `BatchCreateSerials`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::serial::{NewSerial, Serial};

/// Most serials in one `BatchCreateSerials` call.
pub const MAX_BATCH: usize = 10_000;

/// Why one item of a batch was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemReason {
    AlreadyExists,
    InvalidSerialNumber,
    UnknownProductSku,
    UnknownWarrantyPlan,
    InvalidValidityWindow,
    InvalidCustomerTags,
}

impl ItemReason {
    /// The reason as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::InvalidSerialNumber => "INVALID_SERIAL_NUMBER",
            Self::UnknownProductSku => "UNKNOWN_PRODUCT_SKU",
            Self::UnknownWarrantyPlan => "UNKNOWN_WARRANTY_PLAN",
            Self::InvalidValidityWindow => "INVALID_VALIDITY_WINDOW",
            Self::InvalidCustomerTags => "INVALID_CUSTOMER_TAGS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    /// Position of the item in the request.
    pub index: usize,
    pub serial_number: String,
    pub reason: ItemReason,
    /// Lowercase text that names the field and the reason.
    pub message: String,
}

/// What a batch created, and why the rest was not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub created: Vec<Serial>,
    pub errors: Vec<ItemError>,
}

/// Keeps the first occurrence of each serial number (case-insensitively) and reports the later
/// ones as `ALREADY_EXISTS`.
pub fn drop_repeats(items: Vec<(usize, NewSerial)>) -> (Vec<(usize, NewSerial)>, Vec<ItemError>) {
    let mut first_at: HashMap<String, usize> = HashMap::with_capacity(items.len());
    let mut kept = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items {
        match first_at.get(item.number.key()) {
            Some(first) => errors.push(ItemError {
                index,
                serial_number: item.number.as_str().to_owned(),
                reason: ItemReason::AlreadyExists,
                message: format!(
                    "serials[{index}].serial_number: appears twice in the request (first at index {first})"
                ),
            }),
            None => {
                first_at.insert(item.number.key().to_owned(), index);
                kept.push((index, item));
            }
        }
    }
    (kept, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomerTags, SerialNumber, ValidityWindow};

    fn item(number: &str) -> NewSerial {
        NewSerial {
            number: SerialNumber::parse(number).unwrap(),
            product_sku: None,
            warranty_plan_id: None,
            window: ValidityWindow::default(),
            customer_tags: CustomerTags::default(),
        }
    }

    #[test]
    fn a_serial_twice_in_a_request_keeps_the_first_and_reports_the_second() {
        let (kept, errors) = drop_repeats(vec![(0, item("A-1")), (1, item("b-2")), (2, item("a-1"))]);
        assert_eq!(kept.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].index, errors[0].reason), (2, ItemReason::AlreadyExists));
        assert!(errors[0].message.contains("first at index 0"));
    }
}
