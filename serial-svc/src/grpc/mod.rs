//! gRPC adapters: take the caller's principal, parse the request into domain values, call the
//! store, map the typed result to a response or a `Status` (in `errors`, the one place).
//!
//! Handlers in `serials` and `catalog` only authorize and delegate; the work sits in plain
//! `inner_*` methods of [`Api`] that tests can call without a socket.

mod batch;
mod catalog;
mod convert;
mod errors;
mod fields;
mod imports;
mod paging;
mod request_key;
mod serial_reads;
mod serial_writes;
mod serials;

use regserial::client::MAX_MESSAGE_SIZE;
use regserial::serial::v1::catalog_service_server::CatalogServiceServer;
use regserial::serial::v1::serial_service_server::SerialServiceServer;
use shared::auth::Scope;
use shared::clock::SharedClock;
use shared::paging::PageTokens;
use tonic::{Request, Status};

use crate::store::Store;

/// The ErrorInfo domain of every error serial-svc returns.
pub const DOMAIN: &str = "serial.regserial";

/// Reads of serials and the catalog: registration-svc forwards its caller's token and needs them.
pub const READ_SCOPES: &[Scope] =
    &[Scope::SerialsRead, Scope::SerialsWrite, Scope::RegistrationsRead, Scope::RegistrationsWrite];
/// Following import jobs: `serials:read`, or `serials:write` (who uploads follows the job).
pub const IMPORT_READ_SCOPES: &[Scope] = &[Scope::SerialsRead, Scope::SerialsWrite];
/// Creating serials and catalog entries, allocating and revoking.
pub const WRITE_SCOPES: &[Scope] = &[Scope::SerialsWrite];
/// Claiming and releasing: registration-svc does both with its caller's token.
pub const CLAIM_SCOPES: &[Scope] = &[Scope::SerialsWrite, Scope::RegistrationsWrite];

/// Serial-svc's gRPC API: implements both `SerialService` and `CatalogService`. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    store: Store,
    clock: SharedClock,
    tokens: PageTokens,
}

pub use shared::auth::Caller;

impl Api {
    pub fn new(store: Store, clock: SharedClock, tokens: PageTokens) -> Self {
        Self { store, clock, tokens }
    }

    /// The caller of `request`, if its token holds any of `scopes`.
    pub fn caller<T>(&self, request: &Request<T>, scopes: &[Scope]) -> Result<Caller, Status> {
        Caller::authorize(request, DOMAIN, scopes, &self.clock)
    }

    /// `SerialService`, accepting messages up to [`MAX_MESSAGE_SIZE`].
    pub fn serial_service(&self) -> SerialServiceServer<Api> {
        SerialServiceServer::new(self.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    /// `CatalogService`, accepting messages up to [`MAX_MESSAGE_SIZE`].
    pub fn catalog_service(&self) -> CatalogServiceServer<Api> {
        CatalogServiceServer::new(self.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }
}
