//! Products and warranty plans.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::identifier::{PlanId, Sku};

/// Longest product or plan name, in characters.
pub const MAX_NAME_LEN: usize = 200;
/// Longest warranty, in months (100 years).
pub const MAX_DURATION_MONTHS: i32 = 1200;

/// A display name: 1-200 characters, no control characters, surrounding whitespace trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_NAME_LEN} characters")]
    TooLong,
    #[error("must not contain control characters")]
    Control,
}

impl Name {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        if name.is_empty() {
            Err(NameError::Empty)
        } else if name.chars().count() > MAX_NAME_LEN {
            Err(NameError::TooLong)
        } else if name.chars().any(char::is_control) {
            Err(NameError::Control)
        } else {
            Ok(Self(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A warranty length in months, 1..=1200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationMonths(i32);

impl DurationMonths {
    pub fn new(months: i32) -> Option<Self> {
        (1..=MAX_DURATION_MONTHS).contains(&months).then_some(Self(months))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub sku: Sku,
    pub name: Name,
    pub parent_sku: Option<Sku>,
    pub warranty_plan_id: Option<PlanId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub parent_sku: Option<String>,
    pub warranty_plan_id: Option<String>,
    pub create_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWarrantyPlan {
    pub id: PlanId,
    pub name: Name,
    pub duration_months: DurationMonths,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyPlan {
    pub id: String,
    pub name: String,
    pub duration_months: i32,
    pub create_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_durations_are_bounded() {
        assert_eq!(Name::parse("  Drill ").unwrap().as_str(), "Drill");
        assert_eq!(Name::parse(" "), Err(NameError::Empty));
        assert_eq!(Name::parse(&"n".repeat(201)), Err(NameError::TooLong));
        assert!(DurationMonths::new(0).is_none());
        assert!(DurationMonths::new(1201).is_none());
        assert_eq!(DurationMonths::new(24).map(DurationMonths::get), Some(24));
    }
}
