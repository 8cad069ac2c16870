//! Per-item outcomes of `BatchCreateSerials`, and the rules an item meets before it is
//! inserted: no serial twice in one request, and references to the catalog that exist.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::serial::{NewSerial, Serial};

/// Most serials in one `BatchCreateSerials` call.
pub const MAX_BATCH: usize = 10_000;

/// A batch with no item, or more than [`MAX_BATCH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchSizeError {
    #[error("must hold at least one serial")]
    Empty,
    #[error("at most {MAX_BATCH} serials per call, got {0}")]
    TooLarge(usize),
}

/// Whether a batch of `count` items may be created.
pub fn check_batch_size(count: usize) -> Result<(), BatchSizeError> {
    match count {
        0 => Err(BatchSizeError::Empty),
        count if count > MAX_BATCH => Err(BatchSizeError::TooLarge(count)),
        _ => Ok(()),
    }
}

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

impl ItemError {
    /// Item `index`, `serial`, refused for `reason`; `message` starts with the field at fault.
    pub fn new(index: usize, serial: &NewSerial, reason: ItemReason, message: String) -> Self {
        Self { index, serial_number: serial.number.as_str().to_owned(), reason, message }
    }
}

/// What the catalog holds of a batch's references: each known SKU with its default plan, and
/// the known plans.
#[derive(Debug, Default)]
pub struct CatalogRefs {
    pub products: HashMap<String, Option<String>>,
    pub plans: HashSet<String>,
}

impl CatalogRefs {
    /// The plan of `serial` (item `index`): its own, else its product's; refused when it names
    /// a product or a plan the catalog does not have.
    pub fn resolve<'a>(&'a self, index: usize, serial: &'a NewSerial) -> Result<Option<&'a str>, ItemError> {
        let mut plan = serial.warranty_plan_id.as_ref().map(|p| p.as_str());
        if let Some(sku) = &serial.product_sku {
            let Some(default_plan) = self.products.get(sku.as_str()) else {
                let message = format!("serials[{index}].product_sku: no product {sku} in the catalog");
                return Err(ItemError::new(index, serial, ItemReason::UnknownProductSku, message));
            };
            plan = plan.or(default_plan.as_deref());
        }
        if let Some(id) = &serial.warranty_plan_id
            && !self.plans.contains(id.as_str())
        {
            let message = format!("serials[{index}].warranty_plan_id: no warranty plan {id}");
            return Err(ItemError::new(index, serial, ItemReason::UnknownWarrantyPlan, message));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(number: &str) -> NewSerial {
        NewSerial::bare(number)
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
