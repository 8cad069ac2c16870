//! The one place where domain and saga errors become `tonic::Status`, with the ErrorInfo
//! reasons of the API contract. Database failures and inconsistencies are logged with their
//! cause and answered as a generic INTERNAL.

use shared::status::{self, FieldViolation};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::DOMAIN;
use super::convert;
use super::fields::{invalid_field, path};
use crate::domain::{
    AttemptFailure, MAX_BATCH, RegistrationId, RegistrationNumber, RegistrationStatus, ResetError,
    SerialNumber, StoreError, SwapError, TransitionError, UpdateError,
};
use crate::ops::SagaError;
use crate::serial_client::SerialCallError;

/// Errors name what they are about by its request field, which is also the ErrorInfo metadata
/// key: `serial_number`, `registration_id`, `registration_number`.
const SERIAL_TYPE: &str = "serial_number";
const ID_TYPE: &str = "registration_id";
const NUMBER_TYPE: &str = "registration_number";
const REGISTRATION_TYPE: &str = "regserial.registration.v1.Registration";
/// The reason of every lookup that finds no registration, by id, number or held serial.
const REGISTRATION_NOT_FOUND: &str = "REGISTRATION_NOT_FOUND";
/// The reason of a call whose deadline ran out before serial-svc could answer.
const DEADLINE_EXCEEDED: &str = "DEADLINE_EXCEEDED";
/// serial-svc's reason for a serial it does not have: NOT_FOUND here too.
const SERIAL_NOT_FOUND: &str = "SERIAL_NOT_FOUND";

/// A database failure: UNAVAILABLE (with RetryInfo) while the database cannot be reached,
/// otherwise logged with its cause and answered as INTERNAL without it (see
/// [`status::store_failure`]).
pub fn store(err: StoreError) -> Status {
    status::store_failure(DOMAIN, &err)
}

/// The `request_id` at `prefix` (see [`path`]) came with another request before.
pub fn request_id_reused(prefix: &str) -> Status {
    let violation =
        FieldViolation::new(path(prefix, "request_id"), "was already used for a different request");
    status::invalid_argument(DOMAIN, "REQUEST_ID_REUSED", vec![violation])
}

pub fn registration_not_found(id: &RegistrationId) -> Status {
    status::not_found(DOMAIN, REGISTRATION_NOT_FOUND, ID_TYPE, id.as_str())
}

pub fn number_not_found(number: &RegistrationNumber) -> Status {
    status::not_found(DOMAIN, REGISTRATION_NOT_FOUND, NUMBER_TYPE, number.as_str())
}

/// NOT_FOUND `REGISTRATION_NOT_FOUND`: no registration of the org holds `serial` now (whether
/// or not serial-svc knows the serial).
pub fn not_held(serial: &SerialNumber) -> Status {
    let message = format!("no registration holds serial number {serial}");
    let metadata = [(SERIAL_TYPE.to_owned(), serial.as_str().to_owned())];
    let mut details = ErrorDetails::with_error_info(REGISTRATION_NOT_FOUND, DOMAIN, metadata);
    details.set_resource_info(REGISTRATION_TYPE, "", "", message.clone());
    Status::with_error_details(Code::NotFound, message, details)
}

/// FAILED_PRECONDITION `reason` about `serial`, with `serial_number` in the metadata.
fn serial_precondition(reason: &str, serial: &str, description: &str) -> Status {
    let subject = format!("serials/{serial}");
    status::failed_precondition(DOMAIN, reason, &subject, description, &[(SERIAL_TYPE, serial)])
}

pub fn batch_empty() -> Status {
    invalid_field("requests", "must hold at least one request")
}

pub fn batch_too_large(count: usize) -> Status {
    let description = format!("at most {MAX_BATCH} requests per call, got {count}");
    status::invalid_argument(DOMAIN, "BATCH_TOO_LARGE", vec![FieldViolation::new("requests", description)])
}

/// The saga's answer for a creation; `prefix` locates the request in a batch (see [`path`]).
pub fn create(err: SagaError, prefix: &str) -> Status {
    match err {
        SagaError::RequestIdReused => request_id_reused(prefix),
        err => saga(err),
    }
}

/// The saga's answer for the swap of `old` for `new`.
pub fn swap(err: SagaError, old: &SerialNumber, new: &SerialNumber) -> Status {
    match err {
        SagaError::Swap(err) => swap_refused(err, old, new),
        err => saga(err),
    }
}

/// What the saga did not carry out: serial-svc's refusal keeps its reason (NOT_FOUND for a
/// serial it does not have, else FAILED_PRECONDITION); an outage is UNAVAILABLE
/// `DEPENDENCY_UNAVAILABLE`; a rejection of the forwarded call is passed on as it is.
fn saga(err: SagaError) -> Status {
    match err {
        SagaError::Refused(failure) => refused(&failure),
        SagaError::Serial(err) => not_served(err),
        SagaError::RequestIdReused => request_id_reused(""),
        SagaError::Store(err) => store(err),
        // A swap error outside a swap is a bug of the saga, like an inconsistency.
        err @ (SagaError::Swap(_) | SagaError::Inconsistent(_)) => status::internal(DOMAIN, &err),
    }
}

/// serial-svc could not serve a call now. A refusal of a call the saga expects none of (a
/// warranty plan read) is passed on as its code, reason and message.
fn not_served(err: SerialCallError) -> Status {
    match err {
        SerialCallError::Unavailable { message, retry_after } => {
            // serial-svc's message may describe our network: logged, not sent.
            tracing::warn!(error = %message, "serial-svc unavailable");
            let message = "serial-svc unavailable, retry later";
            status::unavailable(DOMAIN, "DEPENDENCY_UNAVAILABLE", message, retry_after)
        }
        SerialCallError::Rejected(status) => status,
        SerialCallError::OutOfTime => {
            let message = "the call's deadline leaves no time to reach serial-svc";
            status::deadline_exceeded(DOMAIN, DEADLINE_EXCEEDED, message)
        }
        SerialCallError::Refused { code, reason, message } => {
            Status::new(code, format!("{reason}: {message}"))
        }
    }
}

fn refused(failure: &AttemptFailure) -> Status {
    match failure.serial_number.as_deref() {
        Some(serial) if failure.code == SERIAL_NOT_FOUND => {
            status::not_found(DOMAIN, SERIAL_NOT_FOUND, SERIAL_TYPE, serial)
        }
        Some(serial) => {
            let subject = format!("serials/{serial}");
            let metadata: Vec<(&str, &str)> = [(SERIAL_TYPE, serial)]
                .into_iter()
                .chain(failure.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .collect();
            status::failed_precondition(DOMAIN, &failure.code, &subject, &failure.message, &metadata)
        }
        // A refusal about no serial in particular still names its reason.
        None => status::failed_precondition(DOMAIN, &failure.code, "registration", &failure.message, &[]),
    }
}

fn swap_refused(err: SwapError, old: &SerialNumber, new: &SerialNumber) -> Status {
    match err {
        SwapError::SameSerial => invalid_field("new_serial_number", "must differ from serial_number"),
        SwapError::NotHeld => not_held(old),
        SwapError::NewSerialHeld => serial_precondition(
            "SERIAL_ALREADY_REGISTERED",
            new.as_str(),
            "the new serial is already held by a registration",
        ),
        // ABORTED, not FAILED_PRECONDITION: the swap in flight ends by itself within moments (or
        // the recovery worker ends it), so the same call is worth retrying as it is, whereas
        // FAILED_PRECONDITION tells the caller to change something first.
        SwapError::SwapInFlight => status::aborted(
            DOMAIN,
            "SWAP_IN_FLIGHT",
            "another swap of this registration is in progress, retry later",
            &[(SERIAL_TYPE, old.as_str())],
        ),
        SwapError::RequestIdReused => request_id_reused(""),
        SwapError::Store(err) => store(err),
    }
}

/// Approve, deny or cancel (`verb`) of registration `id` did not go through.
pub fn transition(err: TransitionError, id: &RegistrationId, verb: &str) -> Status {
    match err {
        TransitionError::NotFound => registration_not_found(id),
        TransitionError::InvalidTransition { from } => invalid_transition(id, verb, from),
        TransitionError::RequestIdReused => request_id_reused(""),
        TransitionError::Store(err) => store(err),
        // Only the expiry sweep waits for the review period; no request asks for it.
        err @ TransitionError::NotDue => status::internal(DOMAIN, &err),
    }
}

/// FAILED_PRECONDITION `INVALID_STATE_TRANSITION`, naming the registration and its status.
fn invalid_transition(id: &RegistrationId, verb: &str, from: RegistrationStatus) -> Status {
    let description = format!("cannot {verb} a registration that is {}", from.as_str());
    let subject = format!("registrations/{id}");
    let status_name = convert::status(from).as_str_name();
    let metadata = [(ID_TYPE, id.as_str()), ("status", status_name)];
    status::failed_precondition(DOMAIN, "INVALID_STATE_TRANSITION", &subject, &description, &metadata)
}

pub fn update(err: UpdateError, id: &RegistrationId) -> Status {
    match err {
        UpdateError::NotFound => registration_not_found(id),
        UpdateError::RequestIdReused => request_id_reused(""),
        UpdateError::Store(err) => store(err),
    }
}

pub fn reset(err: ResetError, serial: &SerialNumber) -> Status {
    match err {
        ResetError::NotHeld => not_held(serial),
        ResetError::RequestIdReused => request_id_reused(""),
        ResetError::Store(err) => store(err),
    }
}

#[cfg(test)]
mod tests;
