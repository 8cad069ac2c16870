//! The use cases, one file each: `create`, `swap`, `review` (approve, deny, cancel), `reset`,
//! and what carries them through: `release`, `rollback` and the recovery [`worker`]. The reads
//! and `UpdateRegistration` are one store call each, made by the gRPC layer directly.
//!
//! They make up the claim saga (docs/design.md): registration-svc cannot hold a transaction
//! open across a gRPC call. A creation writes its attempt (the request) first, claims the
//! serials with the attempt's id as claimant, and only then writes the registration, once
//! ([`create`]). Every other claim and release of a serial is an intent row written in the same
//! transaction as the change it belongs to, carried out against serial-svc afterwards, and
//! recorded done (or failed, to be retried) once serial-svc answered.
//!
//! Request handlers drive their own intents at once with the caller's token; the recovery
//! [`worker`] rolls back the creation attempts a crash, a timeout or an outage left open (see
//! `rollback`), and re-drives the releases and swaps left in between, with a token it mints
//! for the intent's org. Claims and releases are idempotent by claimant (the
//! registration id), so driving a step twice is always safe.

pub mod backlog;
mod create;
mod release;
mod reset;
mod review;
mod rollback;
mod swap;
pub mod worker;

use crate::domain::{AttemptFailure, StoreError, SwapError};
use crate::serial_client::{SerialCallError, SerialClient};
use crate::store::Store;

pub use worker::{RecoveryWorker, WorkerConfig};

/// Calls to serial-svc one request makes at once (claims of a registration's serials,
/// releases): enough to hide latency, few enough not to flood serial-svc.
const CLAIM_CONCURRENCY: usize = 8;

/// Drives creations, swaps and releases against serial-svc. Cheap to clone.
#[derive(Clone)]
pub struct Saga {
    store: Store,
    serials: SerialClient,
}

/// Why a creation or a swap did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    /// serial-svc refused a serial (not found, registered to another, revoked, expired, not yet
    /// valid, registration period ended): `code` is serial-svc's `ErrorInfo.reason`. Whatever
    /// was claimed is being released; nothing else changed. Final: a retry with the same
    /// `request_id` gets the same answer.
    #[error("serial {serial}: {message}", serial = .0.serial_number.as_deref().unwrap_or("?"), message = .0.message)]
    Refused(AttemptFailure),
    /// serial-svc could not serve a call now: unreachable or timed out (`Unavailable`, also the
    /// answer while an attempt is rolled back under its driver), out of the caller's time
    /// (`OutOfTime`), or the call itself rejected (the forwarded token, say: passed on as it
    /// is). Nothing happened: an attempt left open stays recorded and is rolled back by the
    /// recovery worker, never finished behind its caller's back; a retry with the same
    /// `request_id` drives it again, or restarts it once rolled back.
    #[error(transparent)]
    Serial(SerialCallError),
    #[error("request_id was already used for a different request")]
    RequestIdReused,
    /// `SwapSerial` could not begin.
    #[error(transparent)]
    Swap(SwapError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our records and serial-svc disagree in a way no caller can fix (logged, INTERNAL).
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
}

impl Saga {
    pub fn new(store: Store, serials: SerialClient) -> Self {
        Self { store, serials }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
