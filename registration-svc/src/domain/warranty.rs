//! Warranty coverage of a registered serial, from its warranty plan and the purchase date.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use super::identifier::SerialNumber;

/// What registration-svc needs of a serial's warranty plan (read from serial-svc's catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrantyPlanTerms {
    pub id: String,
    pub name: String,
    pub duration_months: u32,
}

/// A warranty: the plan, and the coverage from the purchase date (or, without one, the
/// registration's create time) for the plan's duration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warranty {
    pub plan_id: String,
    pub plan_name: String,
    #[serde(deserialize_with = "rfc3339")]
    pub coverage_start: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339")]
    pub coverage_end: DateTime<Utc>,
}

/// A time as chrono writes it (RFC 3339), read by chrono's strict RFC 3339 parser: the relaxed
/// one behind `DateTime`'s `Deserialize` took a third of decoding a registration row
/// (profiled, GetRegistration); any other form it accepts is still read by it.
fn rfc3339<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    match DateTime::parse_from_rfc3339(&text) {
        Ok(time) => Ok(time.with_timezone(&Utc)),
        Err(_) => text.parse().map_err(serde::de::Error::custom),
    }
}

impl Warranty {
    /// The coverage of `plan` starting at `purchase_date`, else `create_time`; `None` when its
    /// end is past the calendar's range. Months are calendar months: Jan 31 + 1 month is Feb 28.
    pub fn new(
        plan: &WarrantyPlanTerms,
        purchase_date: Option<DateTime<Utc>>,
        create_time: DateTime<Utc>,
    ) -> Option<Self> {
        let coverage_start = purchase_date.unwrap_or(create_time);
        let coverage_end = coverage_start.checked_add_months(Months::new(plan.duration_months))?;
        Some(Self { plan_id: plan.id.clone(), plan_name: plan.name.clone(), coverage_start, coverage_end })
    }
}

/// The warranty plan of each serial that has one, by serial: what `complete_registration`
/// needs to store the line items' warranties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialPlans(BTreeMap<String, WarrantyPlanTerms>);

impl SerialPlans {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `serial`'s plan (matched case-insensitively, like the serial).
    pub fn insert(&mut self, serial: &SerialNumber, plan: WarrantyPlanTerms) {
        self.0.insert(serial.key().to_owned(), plan);
    }

    pub fn get(&self, serial: &SerialNumber) -> Option<&WarrantyPlanTerms> {
        self.by_key(serial.key())
    }

    /// By serial key (the lowercase serial number).
    pub(crate) fn by_key(&self, key: &str) -> Option<&WarrantyPlanTerms> {
        self.0.get(key)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn plan(months: u32) -> WarrantyPlanTerms {
        WarrantyPlanTerms { id: "std".into(), name: "Standard".into(), duration_months: months }
    }

    #[test]
    fn coverage_starts_at_the_purchase_date_else_at_creation() {
        let bought = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap();
        let created = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let w = Warranty::new(&plan(1), Some(bought), created).unwrap();
        assert_eq!(w.coverage_start, bought);
        assert_eq!(w.coverage_end, Utc.with_ymd_and_hms(2026, 2, 28, 10, 0, 0).unwrap());
        let w = Warranty::new(&plan(24), None, created).unwrap();
        assert_eq!(w.coverage_end, Utc.with_ymd_and_hms(2028, 3, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn coverage_past_the_calendar_is_none() {
        assert_eq!(Warranty::new(&plan(u32::MAX), None, DateTime::<Utc>::MAX_UTC), None);
    }

    #[test]
    fn stored_warranties_read_back_as_written_and_in_chronos_other_forms() {
        let start = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap() + chrono::Duration::microseconds(7);
        let w = Warranty::new(&plan(13), Some(start), start).unwrap();
        let text = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Warranty>(&text).unwrap(), w);
        let relaxed = r#"{"plan_id":"p","plan_name":"P","coverage_start":"2026-01-31 10:00:00+01:00","coverage_end":"2027-01-31T10:00:00Z"}"#;
        let read: Warranty = serde_json::from_str(relaxed).unwrap();
        assert_eq!(read.coverage_start, Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap());
        let bad = relaxed.replace("2027-01-31T10", "2027-13-31T10");
        assert!(serde_json::from_str::<Warranty>(&bad).is_err());
    }

    #[test]
    fn plans_are_found_case_insensitively() {
        let mut plans = SerialPlans::new();
        plans.insert(&SerialNumber::parse("SN-A").unwrap(), plan(12));
        assert!(plans.get(&SerialNumber::parse("sn-a").unwrap()).is_some());
        assert!(plans.get(&SerialNumber::parse("sn-b").unwrap()).is_none());
    }
}
