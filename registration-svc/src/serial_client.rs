//! The one door to serial-svc: `ClaimSerial`, `ReleaseSerial` and warranty-plan reads, each
//! with the caller's token forwarded, a deadline, and retries of transient failures only.
//!
//! Every call made here is safe to repeat: claims and releases are idempotent by claimant, and
//! the rest are reads. So a call that timed out or found serial-svc unreachable is retried a
//! few times within the request; a refusal (NOT_FOUND, FAILED_PRECONDITION) or a rejection of
//! the call itself (UNAUTHENTICATED, INVALID_ARGUMENT, ...) never is.
//!
//! Each try's deadline and the retries are the [`CallPolicy`]'s (in `serial_client/retry.rs`);
//! here are the channel (TLS optional), the three calls and the cache of warranty plans.

use std::time::Duration;

use regserial::serial::v1::catalog_service_client::CatalogServiceClient;
use regserial::serial::v1::serial_service_client::SerialServiceClient;
use regserial::serial::v1::{ClaimSerialRequest, GetWarrantyPlanRequest, ReleaseSerialRequest};
use shared::telemetry::grpc::GrpcTelemetry;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

use crate::domain::WarrantyPlanTerms;

mod retry;

pub use retry::{CallPolicy, DEADLINE_MARGIN, MIN_TRY};

/// Why a call to serial-svc did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SerialCallError {
    /// serial-svc answered, and the answer is no for this serial: NOT_FOUND or
    /// FAILED_PRECONDITION, with its `ErrorInfo.reason` (`SERIAL_ALREADY_REGISTERED`, ...).
    #[error("{reason}: {message}")]
    Refused { code: Code, reason: String, message: String },
    /// serial-svc could not be reached, timed out or was overloaded, on every try.
    #[error("serial-svc unavailable: {message}")]
    Unavailable { message: String, retry_after: Duration },
    /// serial-svc rejected the call itself (token, argument, internal error): not retried.
    #[error("serial-svc rejected the call: {}", .0.message())]
    Rejected(Status),
    /// The call being served has too little time left to call serial-svc (again): nothing was
    /// asked of it by this try. As for `Unavailable`, the outcome of earlier tries is unknown.
    #[error("the caller's deadline leaves no time to call serial-svc")]
    OutOfTime,
}

/// A serial serial-svc just let us claim: what the registration needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSerial {
    pub serial_number: String,
    pub warranty_plan_id: Option<String>,
    pub product_sku: Option<String>,
    pub customer_tags: Vec<String>,
}

/// The channel to serial-svc, each call with its CLIENT span (the trace context passed on in
/// its metadata) and counted in `grpc_client_*`.
type Traced = GrpcTelemetry<Channel>;

/// serial-svc's clients over one HTTP/2 channel. Cheap to clone.
#[derive(Clone)]
pub struct SerialClient {
    serials: SerialServiceClient<Traced>,
    catalog: CatalogServiceClient<Traced>,
    policy: CallPolicy,
    plans: PlanCache,
}

impl SerialClient {
    /// A client of serial-svc at `endpoint` (`http://host:port`). It connects on first use and
    /// reconnects by itself, so registration-svc starts (and reports NOT_SERVING to nobody)
    /// while serial-svc is still coming up.
    pub fn connect_lazy(endpoint: &str, policy: CallPolicy) -> anyhow::Result<Self> {
        Self::connect_lazy_tls(endpoint, policy, None)
    }

    /// [`SerialClient::connect_lazy`], over TLS when `tls` is given (see [`crate::serial_tls`]).
    pub fn connect_lazy_tls(
        endpoint: &str,
        policy: CallPolicy,
        tls: Option<ClientTlsConfig>,
    ) -> anyhow::Result<Self> {
        let mut endpoint = Endpoint::from_shared(endpoint.to_owned())?;
        if let Some(tls) = tls {
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = endpoint
            .connect_timeout(policy.deadline)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .connect_lazy();
        let channel = GrpcTelemetry::client(channel);
        let limit = regserial::client::MAX_MESSAGE_SIZE;
        Ok(Self {
            serials: SerialServiceClient::new(channel.clone())
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
            catalog: CatalogServiceClient::new(channel)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
            policy,
            plans: PlanCache::new(MAX_PLANS),
        })
    }

    /// `ClaimSerial(serial_number, claimant)` on behalf of the holder of `bearer`.
    pub async fn claim(
        &self,
        bearer: &str,
        serial_number: &str,
        claimant: &str,
    ) -> Result<ClaimedSerial, SerialCallError> {
        let message = ClaimSerialRequest {
            serial_number: serial_number.to_owned(),
            claimant: claimant.to_owned(),
            ..Default::default()
        };
        let serial = self
            .call(
                bearer,
                message,
                |mut client, request| async move { client.claim_serial(request).await },
                &self.serials,
            )
            .await?;
        Ok(ClaimedSerial {
            serial_number: serial.serial_number,
            warranty_plan_id: Some(serial.warranty_plan_id).filter(|id| !id.is_empty()),
            product_sku: Some(serial.product_sku).filter(|sku| !sku.is_empty()),
            customer_tags: serial.customer_tags,
        })
    }

    /// `ReleaseSerial(serial_number, claimant)`, `replaced_by` naming the serial that replaced
    /// it in a swap. A refusal means the serial is not (or no longer) claimed by `claimant`:
    /// there is nothing left to release.
    pub async fn release(
        &self,
        bearer: &str,
        serial_number: &str,
        claimant: &str,
        replaced_by: Option<&str>,
    ) -> Result<(), SerialCallError> {
        let message = ReleaseSerialRequest {
            serial_number: serial_number.to_owned(),
            claimant: claimant.to_owned(),
            replaced_by: replaced_by.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        self.call(
            bearer,
            message,
            |mut client, request| async move { client.release_serial(request).await },
            &self.serials,
        )
        .await
        .map(drop)
    }

    /// Warranty plan `id` of `org` (the org `bearer` is for), `None` if it does not exist.
    /// Plans cannot change once created, so each is fetched once and remembered.
    pub async fn warranty_plan(
        &self,
        bearer: &str,
        org: &str,
        id: &str,
    ) -> Result<Option<WarrantyPlanTerms>, SerialCallError> {
        if let Some(plan) = self.plans.get(&(org.to_owned(), id.to_owned())) {
            return Ok(Some(plan));
        }
        let message = GetWarrantyPlanRequest { id: id.to_owned() };
        let plan = match self
            .call(
                bearer,
                message,
                |mut client, request| async move { client.get_warranty_plan(request).await },
                &self.catalog,
            )
            .await
        {
            Ok(plan) => plan,
            Err(SerialCallError::Refused { code: Code::NotFound, .. }) => return Ok(None),
            Err(err) => return Err(err),
        };
        let terms = WarrantyPlanTerms {
            id: plan.id,
            name: plan.name,
            duration_months: u32::try_from(plan.duration_months).unwrap_or(0),
        };
        self.plans.insert((org.to_owned(), terms.id.clone()), terms.clone());
        Ok(Some(terms))
    }
}

/// Warranty plans remembered, by org and id: plans cannot change once created. Bounded, the
/// least used going first when full.
type PlanCache = moka::sync::Cache<(String, String), WarrantyPlanTerms>;

/// Most warranty plans remembered at once.
const MAX_PLANS: u64 = 10_000;
