//! `grpc`: GetSerial and ValidateSerial under h2load, each as a ratio to the same server's
//! Health/Check, in rounds ([`crate::rounds`]): Health, then GetSerial, ValidateSerial and Health
//! again in every round, so that each read run lies between two Health runs.

use anyhow::{anyhow, ensure};
use prost::Message;
use regserial::serial::v1::{GetSerialRequest, ValidateSerialRequest};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::cli::{Backend, GrpcArgs, ServerArgs};
use crate::fixtures::{self, CALL_DEADLINE};
use crate::grpc_frame;
use crate::h2load::{self, Probe, Summary};
use crate::harness::{self, Bench};
use crate::memory::{self, Resident};
use crate::rounds::{self, Compared};
use crate::rpc;

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const GET_SERIAL: &str = "/regserial.serial.v1.SerialService/GetSerial";
const VALIDATE_SERIAL: &str = "/regserial.serial.v1.SerialService/ValidateSerial";

#[derive(Debug)]
pub struct GrpcReport {
    pub backend: Backend,
    pub args: GrpcArgs,
    pub h2load_version: String,
    pub seeded: u64,
    /// One more than the rounds: before the first and after every round.
    pub health: Vec<Summary>,
    /// One per round.
    pub get_serial: Vec<Summary>,
    pub validate_serial: Vec<Summary>,
    pub idle: Resident,
    pub after: Resident,
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
    let idle = memory::read(bench.pid)?;
    let seeded = u64::from(args.seed_serials);
    eprintln!("{}: seeding {seeded} serials", backend.name());
    fixtures::create_catalog(bench.channel.clone(), &bench.token).await?;
    let prefix = fixtures::run_prefix();
    let mut client = regserial::client::serial_service(bench.channel.clone());
    for request in fixtures::batch_requests(&prefix, seeded, 10_000) {
        fixtures::create_batch(&mut client, &bench.token, request).await?;
    }
    let target = fixtures::serial_number(&prefix, seeded / 2);

    let health = health_probe(&bench).await?;
    let get = get_serial_probe(&bench, &target).await?;
    let validate = validate_serial_probe(&bench, &target).await?;

    let run = |probe, name: String| {
        let (bench, args) = (&bench, &args);
        async move { load(bench, args, probe, &name).await }
    };
    let reads = [(&get, "get-serial"), (&validate, "validate-serial")];
    let (health_runs, reads) =
        rounds::alternate(args.rounds.rounds, run, (&health, "health"), &reads).await?;
    let [get_serial, validate_serial] =
        <[Vec<Summary>; 2]>::try_from(reads).map_err(|_| anyhow!("two reads"))?;
    let after = memory::read(bench.pid)?;
    Ok(GrpcReport {
        backend,
        args,
        h2load_version,
        seeded,
        health: health_runs,
        get_serial,
        validate_serial,
        idle,
        after,
    })
}

/// Health/Check of the whole server (service ""), as a Kubernetes probe sends it.
async fn health_probe(bench: &Bench) -> anyhow::Result<Probe> {
    let request = HealthCheckRequest { service: String::new() };
    let mut health = HealthClient::new(bench.channel.clone());
    let response = rpc::call("Health/Check", CALL_DEADLINE, health.check(request.clone())).await?;
    ensure!(
        response.status == ServingStatus::Serving as i32,
        "Health/Check answered {:?}, not SERVING",
        response.status()
    );
    Ok(Probe {
        path: HEALTH_CHECK.to_owned(),
        body: grpc_frame::frame(&request)?,
        authorized: false,
        response_frame_len: grpc_frame::framed_len(response.encoded_len()),
    })
}

async fn get_serial_probe(bench: &Bench, target: &str) -> anyhow::Result<Probe> {
    let request = GetSerialRequest { serial_number: target.to_owned() };
    let mut client = regserial::client::serial_service(bench.channel.clone());
    let call = client.get_serial(rpc::authorized(request.clone(), &bench.token)?);
    let response = rpc::call("GetSerial", CALL_DEADLINE, call).await?;
    ensure!(response.serial_number == target, "GetSerial({target}) returned {}", response.serial_number);
    Ok(Probe {
        path: GET_SERIAL.to_owned(),
        body: grpc_frame::frame(&request)?,
        authorized: true,
        response_frame_len: grpc_frame::framed_len(response.encoded_len()),
    })
}

async fn validate_serial_probe(bench: &Bench, target: &str) -> anyhow::Result<Probe> {
    let request = ValidateSerialRequest { serial_number: target.to_owned() };
    let mut client = regserial::client::serial_service(bench.channel.clone());
    let call = client.validate_serial(rpc::authorized(request.clone(), &bench.token)?);
    let response = rpc::call("ValidateSerial", CALL_DEADLINE, call).await?;
    ensure!(
        response.valid && response.serial.as_ref().is_some_and(|serial| serial.serial_number == target),
        "ValidateSerial({target}) did not find it valid: reason {:?}",
        response.reason()
    );
    Ok(Probe {
        path: VALIDATE_SERIAL.to_owned(),
        body: grpc_frame::frame(&request)?,
        authorized: true,
        response_frame_len: grpc_frame::framed_len(response.encoded_len()),
    })
}

async fn load(bench: &Bench, args: &GrpcArgs, probe: &Probe, name: &str) -> anyhow::Result<Summary> {
    args.h2load.run(bench.addr, &bench.token, &bench.work_dir, probe, name).await
}
