//! gRPC adapters, one file per proto service ([`registration_service`]) with one function per
//! RPC: it parses the message into domain values, calls one use case, and maps the typed
//! result to a response or a `Status` (in `errors`, the one place). The table below says which
//! scopes each RPC takes and implements the service's trait with it. The other files are
//! support: `convert` (domain values as proto messages), `fields` (INVALID_FIELD), `paging`
//! (page sizes and tokens), `request_key` (the idempotent requests).

mod convert;
mod errors;
mod fields;
mod paging;
mod registration_service;
mod request_key;

use regserial::client::MAX_MESSAGE_SIZE;
use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::{
    RegistrationService, RegistrationServiceServer,
};
use shared::auth::Scope;
use shared::clock::SharedClock;
use shared::paging::PageTokens;
use tonic::{Request, Status};

use crate::ops::Saga;
use crate::store::Store;

/// The ErrorInfo domain of every error registration-svc returns.
pub const DOMAIN: &str = "registration.regserial";

/// Reading registrations: whoever may write or review them may also read them.
pub const READ_SCOPES: &[Scope] =
    &[Scope::RegistrationsRead, Scope::RegistrationsWrite, Scope::RegistrationsReview];
/// Creating, updating, canceling registrations and swapping or resetting their serials.
pub const WRITE_SCOPES: &[Scope] = &[Scope::RegistrationsWrite];
/// Approving and denying.
pub const REVIEW_SCOPES: &[Scope] = &[Scope::RegistrationsReview];

/// Registration-svc's gRPC API: implements `RegistrationService`. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    saga: Saga,
    clock: SharedClock,
    tokens: PageTokens,
}

pub use shared::auth::Caller;

/// One call of an RPC, as its adapter gets it (see [`shared::rpc`]).
pub type Call<'a, M> = shared::rpc::Call<'a, Api, M>;
pub use shared::rpc::Answer;

impl Api {
    pub fn new(saga: Saga, clock: SharedClock, tokens: PageTokens) -> Self {
        Self { saga, clock, tokens }
    }

    /// The caller of `request`, if its token holds any of `scopes`.
    pub fn caller<T>(&self, request: &Request<T>, scopes: &[Scope]) -> Result<Caller, Status> {
        Caller::authorize(request, DOMAIN, scopes, &self.clock)
    }

    /// `RegistrationService`, accepting messages up to [`MAX_MESSAGE_SIZE`].
    pub fn registration_service(&self) -> RegistrationServiceServer<Api> {
        RegistrationServiceServer::new(self.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn store(&self) -> &Store {
        self.saga.store()
    }
}

shared::rpcs! {
    Api;
    impl RegistrationService in registration_service {
        fn create_registration(pb::CreateRegistrationRequest) -> pb::Registration, WRITE_SCOPES;
        fn batch_create_registrations(pb::BatchCreateRegistrationsRequest) -> pb::BatchCreateRegistrationsResponse, WRITE_SCOPES;
        fn get_registration(pb::GetRegistrationRequest) -> pb::Registration, READ_SCOPES;
        fn lookup_registration(pb::LookupRegistrationRequest) -> pb::Registration, READ_SCOPES;
        fn list_registrations(pb::ListRegistrationsRequest) -> pb::ListRegistrationsResponse, READ_SCOPES;
        fn update_registration(pb::UpdateRegistrationRequest) -> pb::Registration, WRITE_SCOPES;
        fn approve_registration(pb::ApproveRegistrationRequest) -> pb::Registration, REVIEW_SCOPES;
        fn deny_registration(pb::DenyRegistrationRequest) -> pb::Registration, REVIEW_SCOPES;
        fn cancel_registration(pb::CancelRegistrationRequest) -> pb::Registration, WRITE_SCOPES;
        fn swap_serial(pb::SwapSerialRequest) -> pb::Registration, WRITE_SCOPES;
        fn reset_serial(pb::ResetSerialRequest) -> pb::Registration, WRITE_SCOPES;
    }
}
