//! The one place where domain errors become `tonic::Status`, with the ErrorInfo reasons of the
//! API contract. Database failures are logged with their cause and answered as a generic INTERNAL.

use std::collections::HashMap;

use shared::status::{self, FieldViolation};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::DOMAIN;
use super::convert;
use super::fields::{invalid_field, invalid_fields};
use crate::domain::import::{CancelError, ImportId, WatchError};
use crate::domain::{
    AllocateError, BatchCreateError, BatchSizeError, ClaimError, CreatePlanError, CreateProductError,
    InvalidReason, ItemError, ItemReason, PlanId, ReleaseError, RevokeError, SerialNumber, Sku, StoreError,
};
use crate::ops::import_serials::UploadError;

/// Serial errors name the serial by its field, so ErrorInfo metadata carries `serial_number`.
const SERIAL_TYPE: &str = "serial_number";
const PRODUCT_TYPE: &str = "regserial.serial.v1.Product";
const PLAN_TYPE: &str = "regserial.serial.v1.WarrantyPlan";
const JOB_TYPE: &str = "regserial.serial.v1.ImportJob";

/// A database failure: UNAVAILABLE (with RetryInfo) while the database cannot be reached,
/// otherwise logged with its cause and answered as INTERNAL without it (see
/// [`status::store_failure`]).
pub fn store(err: StoreError) -> Status {
    status::store_failure(DOMAIN, &err)
}

pub fn serial_not_found(number: &str) -> Status {
    status::not_found(DOMAIN, "SERIAL_NOT_FOUND", SERIAL_TYPE, number)
}

pub fn product_not_found(sku: &Sku) -> Status {
    status::not_found(DOMAIN, "PRODUCT_NOT_FOUND", PRODUCT_TYPE, sku.as_str())
}

pub fn warranty_plan_not_found(id: &PlanId) -> Status {
    status::not_found(DOMAIN, "WARRANTY_PLAN_NOT_FOUND", PLAN_TYPE, id.as_str())
}

pub fn request_id_reused() -> Status {
    status::invalid_argument(
        DOMAIN,
        "REQUEST_ID_REUSED",
        vec![FieldViolation::new("request_id", "was already used for a different request")],
    )
}

/// Why a serial cannot be claimed: FAILED_PRECONDITION naming the serial and the
/// `InvalidReason` value (NOT_FOUND for a serial that does not exist).
pub fn claim_refused(number: &SerialNumber, reason: InvalidReason) -> Status {
    let (error_reason, description) = match reason {
        InvalidReason::NotFound => return serial_not_found(number.as_str()),
        InvalidReason::Revoked => ("SERIAL_REVOKED", "the serial is revoked"),
        InvalidReason::AlreadyRegistered => {
            ("SERIAL_ALREADY_REGISTERED", "the serial is registered by another claimant")
        }
        InvalidReason::NotYetValid => ("SERIAL_NOT_YET_VALID", "the serial is not valid yet"),
        InvalidReason::Expired => ("SERIAL_EXPIRED", "the serial has expired"),
        InvalidReason::RegistrationPeriodEnded => {
            ("SERIAL_REGISTRATION_PERIOD_ENDED", "the serial's registration period has ended")
        }
    };
    let invalid_reason = convert::invalid_reason(reason).as_str_name();
    status::failed_precondition(
        DOMAIN,
        error_reason,
        &serial_subject(number),
        description,
        &[("serial_number", number.as_str()), ("invalid_reason", invalid_reason)],
    )
}

fn serial_subject(number: &SerialNumber) -> String {
    format!("serials/{number}")
}

pub fn claim(err: ClaimError, number: &SerialNumber) -> Status {
    match err {
        ClaimError::NotFound => serial_not_found(number.as_str()),
        ClaimError::Refused(reason) => claim_refused(number, reason),
        ClaimError::RequestIdReused => request_id_reused(),
        ClaimError::Store(err) => store(err),
    }
}

pub fn release(err: ReleaseError, number: &SerialNumber) -> Status {
    match err {
        ReleaseError::NotFound => serial_not_found(number.as_str()),
        ReleaseError::NotClaimant => status::failed_precondition(
            DOMAIN,
            "SERIAL_HELD_BY_ANOTHER_CLAIMANT",
            &serial_subject(number),
            "the serial is held by another claimant",
            &[("serial_number", number.as_str())],
        ),
        ReleaseError::RequestIdReused => request_id_reused(),
        ReleaseError::Store(err) => store(err),
    }
}

pub fn allocate(err: AllocateError, product_sku: Option<&Sku>) -> Status {
    match err {
        AllocateError::NoneAvailable => none_available(product_sku),
        AllocateError::RequestIdReused => request_id_reused(),
        AllocateError::Store(err) => store(err),
    }
}

/// NOT_FOUND `NO_SERIAL_AVAILABLE`: nothing is left to allocate (for `product_sku`, if given).
fn none_available(product_sku: Option<&Sku>) -> Status {
    let (message, metadata) = match product_sku {
        Some(sku) => {
            (format!("no serial of product {sku} is available"), vec![("product_sku", sku.as_str())])
        }
        None => ("no serial is available".to_owned(), vec![]),
    };
    let mut details = ErrorDetails::with_error_info("NO_SERIAL_AVAILABLE", DOMAIN, to_map(&metadata));
    details.set_resource_info("regserial.serial.v1.Serial", "", "", message.clone());
    Status::with_error_details(Code::NotFound, message, details)
}

pub fn revoke(err: RevokeError, number: &SerialNumber) -> Status {
    match err {
        RevokeError::NotFound => serial_not_found(number.as_str()),
        RevokeError::RequestIdReused => request_id_reused(),
        RevokeError::Store(err) => store(err),
    }
}

pub fn create_product(err: CreateProductError, sku: &Sku) -> Status {
    match err {
        CreateProductError::AlreadyExists => {
            status::already_exists(DOMAIN, "PRODUCT_ALREADY_EXISTS", PRODUCT_TYPE, sku.as_str())
        }
        CreateProductError::UnknownParent => invalid_field("product.parent_sku", "no such product"),
        CreateProductError::UnknownPlan => invalid_field("product.warranty_plan_id", "no such warranty plan"),
        CreateProductError::RequestIdReused => request_id_reused(),
        CreateProductError::Store(err) => store(err),
    }
}

pub fn create_plan(err: CreatePlanError, id: &PlanId) -> Status {
    match err {
        CreatePlanError::AlreadyExists => {
            status::already_exists(DOMAIN, "WARRANTY_PLAN_ALREADY_EXISTS", PLAN_TYPE, id.as_str())
        }
        CreatePlanError::RequestIdReused => request_id_reused(),
        CreatePlanError::Store(err) => store(err),
    }
}

/// INVALID_FIELD for an empty batch, `BATCH_TOO_LARGE` for one over the limit.
pub fn batch_size(err: BatchSizeError) -> Status {
    match err {
        BatchSizeError::Empty => invalid_field("serials", err.to_string()),
        BatchSizeError::TooLarge(_) => {
            let violation = FieldViolation::new("serials", err.to_string());
            status::invalid_argument(DOMAIN, "BATCH_TOO_LARGE", vec![violation])
        }
    }
}

pub fn batch(err: BatchCreateError) -> Status {
    match err {
        BatchCreateError::Rejected { errors } => batch_rejected(errors),
        BatchCreateError::RequestIdReused => request_id_reused(),
        BatchCreateError::Store(err) => store(err),
    }
}

/// An atomic batch with failed items: ALREADY_EXISTS when every failure is a duplicate, else
/// INVALID_ARGUMENT with one violation per failed item.
pub fn batch_rejected(mut errors: Vec<ItemError>) -> Status {
    errors.sort_by_key(|e| e.index);
    if let Some(first) = errors.first()
        && errors.iter().all(|e| e.reason == ItemReason::AlreadyExists)
    {
        return duplicates(&first.serial_number, errors.len());
    }
    let violations = errors
        .iter()
        .map(|e| FieldViolation::new(convert::item_field(e), format!("{}: {}", e.reason.as_str(), e.message)))
        .collect();
    invalid_fields(violations)
}

/// ALREADY_EXISTS `SERIAL_ALREADY_EXISTS` for `count` duplicates, naming the first.
fn duplicates(first: &str, count: usize) -> Status {
    let status = status::already_exists(DOMAIN, "SERIAL_ALREADY_EXISTS", SERIAL_TYPE, first);
    if count == 1 {
        return status;
    }
    let message = format!("{} (and {} more)", status.message(), count - 1);
    let count = count.to_string();
    let mut details = ErrorDetails::with_error_info(
        "SERIAL_ALREADY_EXISTS",
        DOMAIN,
        to_map(&[("serial_number", first), ("duplicate_count", &count)]),
    );
    details.set_resource_info(SERIAL_TYPE, first, "", message.clone());
    Status::with_error_details(Code::AlreadyExists, message, details)
}

pub fn import_job_not_found(id: &str) -> Status {
    status::not_found(DOMAIN, "IMPORT_JOB_NOT_FOUND", JOB_TYPE, id)
}

pub fn upload(err: UploadError) -> Status {
    match err {
        UploadError::Empty => invalid_field("csv_chunk", "the file is empty: a header is required"),
        UploadError::HeaderUnreadable(err) => invalid_field("header", err.to_string()),
        UploadError::Header(err) => invalid_field("header", err.to_string()),
        err @ UploadError::HeaderMismatch { .. } => invalid_field("header", err.to_string()),
        UploadError::Broken => Status::cancelled("the upload broke"),
        UploadError::Store(err) => store(err),
    }
}

pub fn watch(err: WatchError, id: &ImportId) -> Status {
    match err {
        WatchError::NotFound => import_job_not_found(id.as_str()),
        WatchError::Store(err) => store(err),
    }
}

pub fn cancel(err: CancelError, id: &ImportId) -> Status {
    match err {
        CancelError::NotFound => import_job_not_found(id.as_str()),
        CancelError::AlreadySucceeded => {
            let (subject, metadata) = (format!("importJobs/{}", id.as_str()), [("import_job", id.as_str())]);
            let why = "the import job already succeeded";
            status::failed_precondition(DOMAIN, "INVALID_STATE_TRANSITION", &subject, why, &metadata)
        }
        CancelError::Store(err) => store(err),
    }
}

fn to_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}
