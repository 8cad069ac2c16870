//! Proto messages <-> domain values: timestamps, serials, catalog entries, events, import jobs
//! and enums, and the parse of one `BatchCreateSerials` item into a [`NewSerial`].

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use regserial::serial::v1 as pb;

use crate::domain::import::{ImportJob, JobState, RowError};
use crate::domain::{
    CustomerTags, EventKind, InvalidReason, ItemError, ItemReason, NewSerial, PlanId, Product, Serial,
    SerialEvent, SerialNumber, SerialStatus, Sku, ValidityWindow, WarrantyPlan, optional,
};

/// Timestamps convert the same way in both services.
pub use shared::convert::{parse_timestamp, timestamp};

/// An optional proto `Timestamp` field.
pub fn parse_optional_timestamp(ts: Option<&Timestamp>) -> Result<Option<DateTime<Utc>>, String> {
    ts.map(parse_timestamp).transpose()
}

/// A stored serial as the API shows it, its status as seen at `now`.
pub fn serial(serial: Serial, now: DateTime<Utc>) -> pb::Serial {
    let status = status(serial.status(now));
    pb::Serial {
        serial_number: serial.serial_number,
        product_sku: serial.product_sku.unwrap_or_default(),
        warranty_plan_id: serial.warranty_plan_id.unwrap_or_default(),
        valid_from: serial.window.valid_from.map(timestamp),
        valid_until: serial.window.valid_until.map(timestamp),
        register_until: serial.window.register_until.map(timestamp),
        customer_tags: serial.customer_tags,
        status: status as i32,
        claimant: serial.claimant.unwrap_or_default(),
        revoke_reason: serial.revoke_reason.unwrap_or_default(),
        create_time: Some(timestamp(serial.create_time)),
        update_time: Some(timestamp(serial.update_time)),
        claim_time: serial.claim_time.map(timestamp),
        revoke_time: serial.revoke_time.map(timestamp),
        allocate_time: serial.allocate_time.map(timestamp),
    }
}

pub fn status(status: SerialStatus) -> pb::SerialStatus {
    match status {
        SerialStatus::Active => pb::SerialStatus::Active,
        SerialStatus::Registered => pb::SerialStatus::Registered,
        SerialStatus::Expired => pb::SerialStatus::Expired,
        SerialStatus::Revoked => pb::SerialStatus::Revoked,
    }
}

/// A `status` filter: unspecified means no filter; `Err` for a value the API does not define.
pub fn parse_status_filter(raw: i32) -> Result<Option<SerialStatus>, String> {
    match pb::SerialStatus::try_from(raw) {
        Ok(pb::SerialStatus::Unspecified) => Ok(None),
        Ok(pb::SerialStatus::Active) => Ok(Some(SerialStatus::Active)),
        Ok(pb::SerialStatus::Registered) => Ok(Some(SerialStatus::Registered)),
        Ok(pb::SerialStatus::Expired) => Ok(Some(SerialStatus::Expired)),
        Ok(pb::SerialStatus::Revoked) => Ok(Some(SerialStatus::Revoked)),
        Err(_) => Err(format!("unknown serial status {raw}")),
    }
}

pub fn invalid_reason(reason: InvalidReason) -> pb::InvalidReason {
    match reason {
        InvalidReason::NotFound => pb::InvalidReason::NotFound,
        InvalidReason::Revoked => pb::InvalidReason::Revoked,
        InvalidReason::AlreadyRegistered => pb::InvalidReason::AlreadyRegistered,
        InvalidReason::NotYetValid => pb::InvalidReason::NotYetValid,
        InvalidReason::Expired => pb::InvalidReason::Expired,
        InvalidReason::RegistrationPeriodEnded => pb::InvalidReason::RegistrationPeriodEnded,
    }
}

pub fn event(event: SerialEvent) -> pb::SerialEvent {
    let kind = match event.kind {
        EventKind::Created => pb::SerialEventType::Created,
        EventKind::Claimed => pb::SerialEventType::Claimed,
        EventKind::Released => pb::SerialEventType::Released,
        EventKind::Swapped => pb::SerialEventType::Swapped,
        EventKind::Revoked => pb::SerialEventType::Revoked,
        EventKind::Allocated => pb::SerialEventType::Allocated,
    };
    pb::SerialEvent {
        r#type: kind as i32,
        event_time: Some(timestamp(event.time)),
        claimant: event.claimant.unwrap_or_default(),
        actor: event.actor,
        detail: event.detail.unwrap_or_default(),
    }
}

pub fn product(product: Product) -> pb::Product {
    pb::Product {
        sku: product.sku,
        name: product.name,
        parent_sku: product.parent_sku.unwrap_or_default(),
        warranty_plan_id: product.warranty_plan_id.unwrap_or_default(),
        create_time: Some(timestamp(product.create_time)),
    }
}

pub fn warranty_plan(plan: WarrantyPlan) -> pb::WarrantyPlan {
    pb::WarrantyPlan {
        id: plan.id,
        name: plan.name,
        duration_months: plan.duration_months,
        create_time: Some(timestamp(plan.create_time)),
    }
}

pub fn item_error(error: ItemError) -> pb::BatchCreateSerialsError {
    pb::BatchCreateSerialsError {
        index: i32::try_from(error.index).unwrap_or(i32::MAX),
        serial_number: error.serial_number,
        reason: error.reason.as_str().to_owned(),
        message: error.message,
    }
}

/// A count as the API shows it.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn import_job(job: ImportJob) -> pb::ImportJob {
    let rows_per_second = job.rows_per_second();
    let state = match job.state {
        JobState::Running => pb::ImportJobState::Running,
        JobState::Succeeded => pb::ImportJobState::Succeeded,
        JobState::Failed => pb::ImportJobState::Failed,
        JobState::Cancelled => pb::ImportJobState::Cancelled,
    };
    pb::ImportJob {
        id: job.id,
        state: state.into(),
        rows_read: count(job.rows_read),
        rows_created: count(job.rows_created),
        rows_failed: count(job.rows_failed),
        errors: job.errors.into_iter().map(row_error).collect(),
        create_time: Some(timestamp(job.create_time)),
        update_time: Some(timestamp(job.update_time)),
        failure_reason: job.failure_reason.unwrap_or_default(),
        failure_line: count(job.failure_line),
        committed_line: count(job.committed_line),
        rows_per_second,
    }
}

fn row_error(error: RowError) -> pb::ImportRowError {
    pb::ImportRowError {
        line: count(error.line),
        serial_number: error.serial_number,
        reason: error.reason.as_str().to_owned(),
        message: error.message,
    }
}

/// The request field an item error is about, e.g. `serials[3].valid_until`. Item messages start
/// with that field (`serials[3].valid_until: …`); otherwise the reason decides.
pub fn item_field(error: &ItemError) -> String {
    let prefix = format!("serials[{}].", error.index);
    if let Some((field, _)) = error.message.split_once(": ")
        && field.starts_with(&prefix)
        && !field.contains(' ')
    {
        return field.to_owned();
    }
    let name = match error.reason {
        ItemReason::AlreadyExists | ItemReason::InvalidSerialNumber => "serial_number",
        ItemReason::UnknownProductSku => "product_sku",
        ItemReason::UnknownWarrantyPlan => "warranty_plan_id",
        ItemReason::InvalidValidityWindow => "valid_until",
        ItemReason::InvalidCustomerTags => "customer_tags",
    };
    format!("{prefix}{name}")
}

/// Parses item `index` of a `BatchCreateSerials` request, reading only its input fields. The
/// first problem found is the item's error; its message starts with the field it is about.
pub fn parse_new_serial(index: usize, item: &pb::Serial) -> Result<NewSerial, ItemError> {
    let fail = |reason: ItemReason, field: &str, why: String| ItemError {
        index,
        serial_number: item.serial_number.trim().to_owned(),
        reason,
        message: format!("serials[{index}].{field}: {why}"),
    };
    let number = SerialNumber::parse(&item.serial_number)
        .map_err(|err| fail(ItemReason::InvalidSerialNumber, "serial_number", err.to_string()))?;
    let product_sku = optional(&item.product_sku, Sku::parse)
        .map_err(|err| fail(ItemReason::UnknownProductSku, "product_sku", format!("invalid sku: {err}")))?;
    let warranty_plan_id = optional(&item.warranty_plan_id, PlanId::parse).map_err(|err| {
        fail(ItemReason::UnknownWarrantyPlan, "warranty_plan_id", format!("invalid plan id: {err}"))
    })?;
    let time = |field: &'static str, ts: Option<&Timestamp>| {
        parse_optional_timestamp(ts).map_err(|why| fail(ItemReason::InvalidValidityWindow, field, why))
    };
    let valid_from = time("valid_from", item.valid_from.as_ref())?;
    let valid_until = time("valid_until", item.valid_until.as_ref())?;
    let register_until = time("register_until", item.register_until.as_ref())?;
    let window = ValidityWindow::new(valid_from, valid_until, register_until)
        .map_err(|err| fail(ItemReason::InvalidValidityWindow, err.field(), err.to_string()))?;
    let customer_tags = CustomerTags::parse(&item.customer_tags)
        .map_err(|err| fail(ItemReason::InvalidCustomerTags, "customer_tags", err.to_string()))?;
    Ok(NewSerial { number, product_sku, warranty_plan_id, window, customer_tags })
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn an_item_error_names_the_field_it_is_about() {
        let item = pb::Serial {
            serial_number: "SN-1".into(),
            valid_from: Some(Timestamp { seconds: 100, nanos: 0 }),
            valid_until: Some(Timestamp { seconds: 50, nanos: 0 }),
            ..Default::default()
        };
        let err = parse_new_serial(3, &item).unwrap_err();
        assert_eq!(err.reason, ItemReason::InvalidValidityWindow);
        assert_eq!(item_field(&err), "serials[3].valid_until");

        let item = pb::Serial { serial_number: "bad one".into(), ..Default::default() };
        let err = parse_new_serial(0, &item).unwrap_err();
        assert_eq!(
            (err.reason, item_field(&err).as_str()),
            (ItemReason::InvalidSerialNumber, "serials[0].serial_number")
        );
    }

    #[test]
    fn a_store_item_error_without_a_field_prefix_is_placed_by_its_reason() {
        let err = ItemError {
            index: 7,
            serial_number: "X".into(),
            reason: ItemReason::UnknownProductSku,
            message: "no such product".into(),
        };
        assert_eq!(item_field(&err), "serials[7].product_sku");
    }
}
