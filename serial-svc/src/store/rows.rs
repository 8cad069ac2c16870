//! Row types shared by both backends, and their conversion to domain values.

use chrono::{DateTime, Utc};

use crate::domain::{EventKind, Product, Serial, SerialEvent, StoreError, ValidityWindow, WarrantyPlan};

/// The columns of a `serials` row, in [`SerialRow`]'s order, for `concat!`.
macro_rules! serial_columns {
    () => {
        "id, serial_number, product_sku, warranty_plan_id, valid_from, valid_until, register_until, \
         customer_tags, claimant, claim_time, allocate_time, revoke_time, revoke_reason, create_time, update_time"
    };
}
pub(crate) use serial_columns;

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {us} out of range")))
}

fn opt_time(us: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    us.map(time).transpose()
}

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct SerialRow {
    pub id: i64,
    pub serial_number: String,
    product_sku: Option<String>,
    warranty_plan_id: Option<String>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    register_until: Option<i64>,
    customer_tags: String,
    claimant: Option<String>,
    claim_time: Option<i64>,
    allocate_time: Option<i64>,
    revoke_time: Option<i64>,
    revoke_reason: Option<String>,
    create_time: i64,
    update_time: i64,
}

impl SerialRow {
    /// The row's id (the list cursor) and the serial.
    pub fn into_domain(self) -> Result<(i64, Serial), StoreError> {
        let customer_tags = serde_json::from_str(&self.customer_tags)
            .map_err(|err| StoreError::Corrupt(format!("customer_tags of serial {}: {err}", self.id)))?;
        let serial = Serial {
            serial_number: self.serial_number,
            product_sku: self.product_sku,
            warranty_plan_id: self.warranty_plan_id,
            window: ValidityWindow {
                valid_from: opt_time(self.valid_from)?,
                valid_until: opt_time(self.valid_until)?,
                register_until: opt_time(self.register_until)?,
            },
            customer_tags,
            claimant: self.claimant,
            revoke_reason: self.revoke_reason,
            create_time: time(self.create_time)?,
            update_time: time(self.update_time)?,
            claim_time: opt_time(self.claim_time)?,
            revoke_time: opt_time(self.revoke_time)?,
            allocate_time: opt_time(self.allocate_time)?,
        };
        Ok((self.id, serial))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProductRow {
    sku: String,
    name: String,
    parent_sku: Option<String>,
    warranty_plan_id: Option<String>,
    create_time: i64,
}

impl ProductRow {
    pub fn into_domain(self) -> Result<Product, StoreError> {
        Ok(Product {
            sku: self.sku,
            name: self.name,
            parent_sku: self.parent_sku,
            warranty_plan_id: self.warranty_plan_id,
            create_time: time(self.create_time)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PlanRow {
    id: String,
    name: String,
    duration_months: i32,
    create_time: i64,
}

impl PlanRow {
    pub fn into_domain(self) -> Result<WarrantyPlan, StoreError> {
        Ok(WarrantyPlan {
            id: self.id,
            name: self.name,
            duration_months: self.duration_months,
            create_time: time(self.create_time)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    kind: String,
    claimant: Option<String>,
    actor: String,
    detail: Option<String>,
    event_time: i64,
}

impl EventRow {
    pub fn into_domain(self) -> Result<SerialEvent, StoreError> {
        let kind = EventKind::from_db(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {:?}", self.kind)))?;
        Ok(SerialEvent {
            id: self.id,
            kind,
            time: time(self.event_time)?,
            claimant: self.claimant,
            actor: self.actor,
            detail: self.detail,
        })
    }
}

/// Converts a batch of rows, failing on the first unreadable one.
pub(crate) fn all<R, T>(
    rows: Vec<R>,
    convert: impl Fn(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(convert).collect()
}
