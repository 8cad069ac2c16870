//! gRPC adapters, one file per proto service ([`serial_service`], [`catalog_service`]) with one
//! function per RPC: it parses the message into domain values, calls one use case (a
//! [`crate::ops`] function, or the store method of its name), and maps the typed result to a
//! response or a `Status` (in `errors`, the one place). The table below says which scopes each
//! RPC takes and implements the services' traits with it. The other files are support:
//! `convert` (domain values as proto messages), `fields` (INVALID_FIELD), `paging` (page sizes
//! and tokens), `request_key` (the idempotent requests).

mod catalog_service;
mod convert;
mod errors;
mod fields;
mod paging;
mod request_key;
mod serial_service;

use regserial::client::MAX_MESSAGE_SIZE;
use regserial::serial::v1 as pb;
use regserial::serial::v1::catalog_service_server::{CatalogService, CatalogServiceServer};
use regserial::serial::v1::serial_service_server::{SerialService, SerialServiceServer};
use shared::auth::Scope;
use shared::clock::SharedClock;
use shared::paging::PageTokens;
use tonic::{Request, Status, Streaming};

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

/// One call of an RPC, as its adapter gets it (see [`shared::rpc`]).
pub type Call<'a, M> = shared::rpc::Call<'a, Api, M>;
pub use shared::rpc::Answer;

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

shared::rpcs! {
    Api;
    impl SerialService in serial_service {
        type WatchImportJobStream = serial_service::ImportJobStream;
        fn import_serials(Streaming<pb::ImportSerialsRequest>) -> pb::ImportJob, WRITE_SCOPES;
        fn batch_create_serials(pb::BatchCreateSerialsRequest) -> pb::BatchCreateSerialsResponse, WRITE_SCOPES;
        fn get_serial(pb::GetSerialRequest) -> pb::Serial, READ_SCOPES;
        fn list_serials(pb::ListSerialsRequest) -> pb::ListSerialsResponse, READ_SCOPES;
        fn validate_serial(pb::ValidateSerialRequest) -> pb::ValidateSerialResponse, READ_SCOPES;
        fn claim_serial(pb::ClaimSerialRequest) -> pb::Serial, CLAIM_SCOPES;
        fn release_serial(pb::ReleaseSerialRequest) -> pb::Serial, CLAIM_SCOPES;
        fn allocate_serial(pb::AllocateSerialRequest) -> pb::Serial, WRITE_SCOPES;
        fn revoke_serial(pb::RevokeSerialRequest) -> pb::Serial, WRITE_SCOPES;
        fn list_serial_events(pb::ListSerialEventsRequest) -> pb::ListSerialEventsResponse, READ_SCOPES;
        fn get_import_job(pb::GetImportJobRequest) -> pb::ImportJob, IMPORT_READ_SCOPES;
        fn list_import_jobs(pb::ListImportJobsRequest) -> pb::ListImportJobsResponse, IMPORT_READ_SCOPES;
        fn watch_import_job(pb::WatchImportJobRequest) -> serial_service::ImportJobStream, IMPORT_READ_SCOPES;
        fn cancel_import_job(pb::CancelImportJobRequest) -> pb::ImportJob, WRITE_SCOPES;
    }
    impl CatalogService in catalog_service {
        fn create_product(pb::CreateProductRequest) -> pb::Product, WRITE_SCOPES;
        fn get_product(pb::GetProductRequest) -> pb::Product, READ_SCOPES;
        fn list_products(pb::ListProductsRequest) -> pb::ListProductsResponse, READ_SCOPES;
        fn create_warranty_plan(pb::CreateWarrantyPlanRequest) -> pb::WarrantyPlan, WRITE_SCOPES;
        fn get_warranty_plan(pb::GetWarrantyPlanRequest) -> pb::WarrantyPlan, READ_SCOPES;
        fn list_warranty_plans(pb::ListWarrantyPlansRequest) -> pb::ListWarrantyPlansResponse, READ_SCOPES;
    }
}
