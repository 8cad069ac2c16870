//! The two closed-loop workloads: `ClaimSerial` straight on serial-svc, and `CreateRegistration`
//! with one line item on registration-svc, each call on a serial of its own from a pool created
//! beforehand, so that every call does the full work of a first claim.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail, ensure};
use regserial::registration::v1::registration_service_client::RegistrationServiceClient;
use regserial::registration::v1::{CreateRegistrationRequest, LineItem, Registration, RegistrationStatus};
use regserial::serial::v1::serial_service_client::SerialServiceClient;
use regserial::serial::v1::{ClaimSerialRequest, SerialStatus};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

use crate::fixtures;

/// One call of a workload, ready to be awaited by a load task.
pub type CallFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Serials created for one run, numbered from 0; each is handed out once.
pub struct SerialPool {
    prefix: String,
    count: u64,
}

impl SerialPool {
    /// Creates `count` registrable serials on serial-svc, 10,000 per BatchCreateSerials.
    pub async fn create(channel: Channel, token: &str, count: u64) -> anyhow::Result<Self> {
        let prefix = fixtures::run_prefix();
        let mut client = regserial::client::serial_service(channel);
        for request in fixtures::batch_requests(&prefix, count, 10_000) {
            fixtures::create_batch(&mut client, token, request).await?;
        }
        Ok(Self { prefix, count })
    }

    /// The serial of call `number`.
    pub fn serial(&self, number: u64) -> anyhow::Result<String> {
        if number >= self.count {
            bail!(
                "ran out of the {} serials created for this run: the service ran faster than the probe said",
                self.count
            );
        }
        Ok(fixtures::serial_number(&self.prefix, number))
    }
}

/// `n` HTTP/2 connections to `addr`, opened now.
pub async fn connections(addr: SocketAddr, n: u32) -> anyhow::Result<Vec<Channel>> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))?.tcp_nodelay(true);
    let mut channels = Vec::new();
    for _ in 0..n {
        channels.push(endpoint.connect().await.with_context(|| format!("cannot connect to {addr}"))?);
    }
    Ok(channels)
}

pub fn bearer(token: &str) -> anyhow::Result<MetadataValue<Ascii>> {
    MetadataValue::try_from(format!("Bearer {token}")).context("the token is not a valid header value")
}

fn authorized<T>(message: T, bearer: &MetadataValue<Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", bearer.clone());
    request
}

fn failed(what: &str, status: Status) -> anyhow::Error {
    anyhow!("{what} failed: {:?} {}", status.code(), status.message())
}

/// Call `number` claims serial `number` of `pool` for a claimant of its own.
pub fn claim(
    channels: &[Channel],
    bearer: MetadataValue<Ascii>,
    pool: Arc<SerialPool>,
) -> impl Fn(u64) -> CallFuture + Clone + Send + 'static {
    let clients: Arc<[SerialServiceClient<Channel>]> =
        channels.iter().cloned().map(regserial::client::serial_service).collect();
    move |number| {
        let mut client = clients[(number % clients.len() as u64) as usize].clone();
        let bearer = bearer.clone();
        let pool = Arc::clone(&pool);
        Box::pin(async move {
            let serial_number = pool.serial(number)?;
            let claimant = uuid::Uuid::new_v4().hyphenated().to_string();
            let message = ClaimSerialRequest {
                serial_number: serial_number.clone(),
                claimant: claimant.clone(),
                ..Default::default()
            };
            let serial = client
                .claim_serial(authorized(message, &bearer))
                .await
                .map_err(|status| failed("ClaimSerial", status))?
                .into_inner();
            ensure!(
                serial.status() == SerialStatus::Registered && serial.claimant == claimant,
                "ClaimSerial({serial_number}) answered {:?} for claimant {:?}",
                serial.status(),
                serial.claimant
            );
            Ok(())
        })
    }
}

/// The registration call `number` creates: one line item on serial `number` of the pool.
pub fn new_registration(number: u64, serial_number: String) -> CreateRegistrationRequest {
    let line_item = LineItem {
        sku: fixtures::PRODUCT_SKU.to_owned(),
        name: "bench product".to_owned(),
        quantity: 1,
        serial_number,
        ..Default::default()
    };
    let registration = Registration {
        customer_email: format!("customer-{number}@example.com"),
        customer_name: "Bench Customer".to_owned(),
        line_items: vec![line_item],
        ..Default::default()
    };
    CreateRegistrationRequest {
        registration: Some(registration),
        request_id: uuid::Uuid::new_v4().hyphenated().to_string(),
    }
}

/// Creates `request` and checks that it is PENDING on its serial.
pub async fn create_registration(
    client: &mut RegistrationServiceClient<Channel>,
    bearer: &MetadataValue<Ascii>,
    request: CreateRegistrationRequest,
) -> anyhow::Result<Registration> {
    let serial_number = request
        .registration
        .as_ref()
        .and_then(|r| r.line_items.first())
        .map(|item| item.serial_number.clone())
        .unwrap_or_default();
    let registration = client
        .create_registration(authorized(request, bearer))
        .await
        .map_err(|status| failed("CreateRegistration", status))?
        .into_inner();
    ensure!(
        registration.status() == RegistrationStatus::Pending
            && !registration.registration_number.is_empty()
            && registration.line_items.first().is_some_and(|item| item.serial_number == serial_number),
        "CreateRegistration({serial_number}) answered status {:?}, number {:?}",
        registration.status(),
        registration.registration_number
    );
    Ok(registration)
}

/// Call `number` registers serial `number` of `pool`, with a `request_id` of its own.
pub fn create(
    channels: &[Channel],
    bearer: MetadataValue<Ascii>,
    pool: Arc<SerialPool>,
) -> impl Fn(u64) -> CallFuture + Clone + Send + 'static {
    let clients: Arc<[RegistrationServiceClient<Channel>]> =
        channels.iter().cloned().map(regserial::client::registration_service).collect();
    move |number| {
        let mut client = clients[(number % clients.len() as u64) as usize].clone();
        let bearer = bearer.clone();
        let pool = Arc::clone(&pool);
        Box::pin(async move {
            let request = new_registration(number, pool.serial(number)?);
            create_registration(&mut client, &bearer, request).await.map(drop)
        })
    }
}
