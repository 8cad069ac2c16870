//! The read calls h2load repeats on registration-svc: each request is made once with the tonic
//! client first (it must succeed and return what the bench expects), then framed for h2load with
//! the size of the answer that every success must carry.

use anyhow::ensure;
use prost::Message;
use regserial::registration::v1::lookup_registration_request::Key;
use regserial::registration::v1::{
    GetRegistrationRequest, ListRegistrationsRequest, LookupRegistrationRequest, Registration,
};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::args::RegistrationArgs;
use super::cpu::Usage;
use super::pair::Pair;
use crate::fixtures::CALL_DEADLINE;
pub use crate::h2load::Probe;
use crate::h2load::Summary;
use crate::{grpc_frame, rpc};

const SERVICE: &str = "/regserial.registration.v1.RegistrationService";

/// An h2load run and where the CPU went meanwhile (registration-svc, serial-svc, the bench).
#[derive(Debug, Clone)]
pub struct Measured {
    pub summary: Summary,
    pub cpu: Usage,
}

/// Health/Check of the whole server (service ""), as a Kubernetes probe sends it.
pub async fn health(pair: &Pair) -> anyhow::Result<Probe> {
    let request = HealthCheckRequest { service: String::new() };
    let mut health = HealthClient::new(pair.registration.channel.clone());
    let response = rpc::call("Health/Check", CALL_DEADLINE, health.check(request.clone())).await?;
    ensure!(
        response.status == ServingStatus::Serving as i32,
        "Health/Check answered {:?}",
        response.status()
    );
    Ok(Probe {
        path: "/grpc.health.v1.Health/Check".to_owned(),
        body: grpc_frame::frame(&request)?,
        authorized: false,
        response_frame_len: grpc_frame::framed_len(response.encoded_len()),
    })
}

pub async fn get(pair: &Pair, target: &Registration) -> anyhow::Result<Probe> {
    let request = GetRegistrationRequest { id: target.id.clone() };
    let mut client = regserial::client::registration_service(pair.registration.channel.clone());
    let call = client.get_registration(rpc::authorized(request.clone(), &pair.token)?);
    let response = rpc::call("GetRegistration", CALL_DEADLINE, call).await?;
    ensure!(response.id == target.id, "GetRegistration({}) returned {}", target.id, response.id);
    authorized_probe("GetRegistration", &request, response.encoded_len())
}

pub async fn lookup(pair: &Pair, key: Key, target: &Registration) -> anyhow::Result<Probe> {
    let request = LookupRegistrationRequest { key: Some(key) };
    let mut client = regserial::client::registration_service(pair.registration.channel.clone());
    let call = client.lookup_registration(rpc::authorized(request.clone(), &pair.token)?);
    let response = rpc::call("LookupRegistration", CALL_DEADLINE, call).await?;
    ensure!(
        response.id == target.id,
        "LookupRegistration({:?}) returned {}, not {}",
        request.key,
        response.id,
        target.id
    );
    authorized_probe("LookupRegistration", &request, response.encoded_len())
}

/// A full page of `page_size` registrations from `page_token` ("" for the first page).
pub async fn list(pair: &Pair, page_size: i32, page_token: &str) -> anyhow::Result<Probe> {
    let request =
        ListRegistrationsRequest { page_size, page_token: page_token.to_owned(), ..Default::default() };
    let mut client = regserial::client::registration_service(pair.registration.channel.clone());
    let call = client.list_registrations(rpc::authorized(request.clone(), &pair.token)?);
    let response = rpc::call("ListRegistrations", CALL_DEADLINE, call).await?;
    ensure!(
        response.registrations.len() == page_size as usize && !response.next_page_token.is_empty(),
        "ListRegistrations returned {} registrations (asked for {page_size}) and next_page_token {:?}",
        response.registrations.len(),
        response.next_page_token
    );
    authorized_probe("ListRegistrations", &request, response.encoded_len())
}

fn authorized_probe(method: &str, request: &impl Message, response_len: usize) -> anyhow::Result<Probe> {
    Ok(Probe {
        path: format!("{SERVICE}/{method}"),
        body: grpc_frame::frame(request)?,
        authorized: true,
        response_frame_len: grpc_frame::framed_len(response_len),
    })
}

/// One h2load run of `probe` against registration-svc, with the CPU each process used.
pub async fn load(
    pair: &Pair,
    args: &RegistrationArgs,
    probe: &Probe,
    name: &str,
) -> anyhow::Result<Measured> {
    let before = pair.cpu_sample()?;
    let summary = args.h2load.run(pair.registration.addr, &pair.token, &pair.work_dir, probe, name).await?;
    let cpu = pair.cpu_sample()?.usage_since(&before);
    Ok(Measured { summary, cpu })
}
