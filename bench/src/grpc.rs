//! `grpc`: GetSerial and ValidateSerial under h2load, each as a ratio to the same server's
//! Health/Check, in rounds ([`crate::rounds`]): Health, then GetSerial, ValidateSerial and Health
//! again in every round, so that each read run lies between two Health runs.

use anyhow::{anyhow, ensure};
use regserial::serial::v1::{GetSerialRequest, ValidateSerialRequest};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::args::{Backend, GrpcArgs, ServerArgs};
use crate::fixtures::{self, CALL_DEADLINE};
use crate::h2load::{self, Probe, Summary};
use crate::harness::{self, Bench};
use crate::rounds::{self, Compared};
use crate::rpc;

#[derive(Debug)]
pub struct GrpcReport {
    pub backend: Backend,
    pub args: GrpcArgs,
    pub h2load_version: String,
    /// One more than the rounds: before the first and after every round.
    pub health: Vec<Summary>,
    /// One per round.
    pub get_serial: Vec<Summary>,
    pub validate_serial: Vec<Summary>,
}

impl GrpcReport {
    pub fn get_serial_compared(&self) -> Compared {
        Compared::of(&self.get_serial, &self.health)
    }

    pub fn validate_serial_compared(&self) -> Compared {
        Compared::of(&self.validate_serial, &self.health)
    }
}

pub async fn run(server: &ServerArgs, backend: Backend, args: &GrpcArgs) -> anyhow::Result<GrpcReport> {
    let h2load_version = h2load::ensure_installed(&args.h2load.h2load_bin).await?;
    let args = args.clone();
    harness::with_server(server, backend, |bench| measure(bench, backend, args, h2load_version)).await
}

async fn measure(
    bench: Bench,
    backend: Backend,
    args: GrpcArgs,
    h2load_version: String,
) -> anyhow::Result<GrpcReport> {
    let target = fixtures::seed(bench.channel.clone(), &bench.token, args.seed_serials).await?;
    let health = health_probe(bench.channel.clone()).await?;
    let get = get_serial_probe(bench.channel.clone(), &bench.token, &target).await?;
    let validate = validate_serial_probe(bench.channel.clone(), &bench.token, &target).await?;
    let run = |probe, name: String| {
        let (bench, args) = (&bench, &args);
        async move { args.h2load.run(bench.addr, &bench.token, &bench.work_dir, probe, &name).await }
    };
    let reads = [(&get, "get-serial"), (&validate, "validate-serial")];
    let (health, reads) = rounds::alternate(args.rounds.rounds, run, (&health, "health"), &reads).await?;
    let [get_serial, validate_serial] =
        <[Vec<Summary>; 2]>::try_from(reads).map_err(|_| anyhow!("two reads"))?;
    Ok(GrpcReport { backend, args, h2load_version, health, get_serial, validate_serial })
}

/// Health/Check of the whole server (service ""), as a Kubernetes probe sends it.
pub async fn health_probe(channel: Channel) -> anyhow::Result<Probe> {
    let request = HealthCheckRequest { service: String::new() };
    let response =
        rpc::call("Health/Check", CALL_DEADLINE, HealthClient::new(channel).check(request.clone())).await?;
    ensure!(
        response.status == ServingStatus::Serving as i32,
        "Health/Check answered {:?}",
        response.status()
    );
    Probe::new("/grpc.health.v1.Health/Check", &request, false, &response)
}

async fn get_serial_probe(channel: Channel, token: &str, target: &str) -> anyhow::Result<Probe> {
    let request = GetSerialRequest { serial_number: target.to_owned() };
    let mut client = regserial::client::serial_service(channel);
    let call = client.get_serial(rpc::authorized(request.clone(), token)?);
    let response = rpc::call("GetSerial", CALL_DEADLINE, call).await?;
    ensure!(response.serial_number == target, "GetSerial({target}) returned {}", response.serial_number);
    Probe::new("/regserial.serial.v1.SerialService/GetSerial", &request, true, &response)
}

/// ValidateSerial of `target`, which must be valid.
pub async fn validate_serial_probe(channel: Channel, token: &str, target: &str) -> anyhow::Result<Probe> {
    let request = ValidateSerialRequest { serial_number: target.to_owned() };
    let mut client = regserial::client::serial_service(channel);
    let call = client.validate_serial(rpc::authorized(request.clone(), token)?);
    let response = rpc::call("ValidateSerial", CALL_DEADLINE, call).await?;
    ensure!(response.valid, "ValidateSerial({target}) did not find it valid: {:?}", response.reason());
    Probe::new("/regserial.serial.v1.SerialService/ValidateSerial", &request, true, &response)
}
