//! gRPC adapters: take the caller's principal, parse the request into domain values, call the
//! saga or the store, map the typed result to a response or a `Status` (in `errors`, the one
//! place).
//!
//! Handlers in `service` only authorize and delegate; the work sits in plain `inner_*` methods
//! of [`Api`] (in `create`, `reads`, `review`, `update` and `serials`) that tests can call
//! without a socket.

mod convert;
mod create;
mod errors;
mod fields;
mod paging;
mod reads;
mod request_key;
mod review;
mod serials;
mod service;
mod update;

use regserial::client::MAX_MESSAGE_SIZE;
use regserial::registration::v1::registration_service_server::RegistrationServiceServer;
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
