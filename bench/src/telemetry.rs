//! `telemetry`: what traces and metrics cost serial-svc. The same release binary, on one
//! database seeded once, is started again and again with telemetry off, on (metrics endpoint,
//! spans exported to an OTLP receiver inside the bench, sampler `parentbased_traceidratio` at
//! 0.1) and on with every call sampled (`always_on`), alternately: `off on all off on all off`…
//! Each start runs h2load on `Health/Check` (the baseline of the same server) and on
//! `ValidateSerial`. The figure held against the target (≥ 0.9) is the median over the rounds of
//! ValidateSerial's rate with telemetry on over its rate with it off in the runs around it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use prost::Message as _;
use regserial::serial::v1::ValidateSerialRequest;
use shared::testing::OtlpCollector;
use tonic_health::pb::HealthCheckRequest;

use crate::cli::{Backend, GrpcArgs, ServerArgs};
use crate::database::FreshDatabase;
use crate::fixtures::{self, CALL_DEADLINE};
use crate::grpc_frame;
use crate::h2load::{self, Probe, Summary};
use crate::harness::interrupted;
use crate::report::{Row, thousands};
use crate::rounds::{self, Compared};
use crate::rpc;
use crate::server::{self, RunningServer, ServerConfig};
use crate::token;

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const VALIDATE_SERIAL: &str = "/regserial.serial.v1.SerialService/ValidateSerial";
/// Telemetry on may cost at most a tenth of ValidateSerial's throughput.
const MIN_RATIO: f64 = 0.9;

#[derive(Debug, clap::Args)]
pub struct TelemetryCommand {
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    #[command(flatten)]
    pub grpc: GrpcArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// How a serial-svc run is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Off,
    /// Metrics and spans, one root call in ten sampled.
    On,
    /// Metrics and spans, every call sampled.
    Always,
}

impl Setting {
    fn name(self) -> &'static str {
        match self {
            Setting::Off => "off",
            Setting::On => "on",
            Setting::Always => "always",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Setting::Off => "telemetry off",
            Setting::On => "metrics on, spans exported, parentbased_traceidratio 0.1",
            Setting::Always => "metrics on, spans exported, always_on",
        }
    }

    fn flags_and_env(self, collector: &str) -> (Vec<String>, Vec<(&'static str, String)>) {
        let sampler = match self {
            Setting::Off => return (Vec::new(), Vec::new()),
            Setting::On => ("parentbased_traceidratio", "0.1"),
            Setting::Always => ("always_on", ""),
        };
        let flags = vec!["--metrics-listen".to_owned(), "127.0.0.1:0".to_owned()];
        let env = vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.to_owned()),
            ("OTEL_TRACES_SAMPLER", sampler.0.to_owned()),
            ("OTEL_TRACES_SAMPLER_ARG", sampler.1.to_owned()),
        ];
        (flags, env)
    }
}

/// The runs of one setting: one per start of serial-svc.
#[derive(Debug, Default)]
struct Runs {
    health: Vec<Summary>,
    validate: Vec<Summary>,
    /// Spans the receiver got during each run (settings with export only).
    spans: Vec<u64>,
}

pub async fn run(args: &TelemetryCommand) -> anyhow::Result<()> {
    let h2load_version = h2load::ensure_installed(&args.grpc.h2load.h2load_bin).await?;
    let bin = server::resolve_bin(args.server.serial_svc_bin.as_deref(), "serial-svc")?;
    let work =
        tempfile::Builder::new().prefix("regserial-bench-").tempdir().context("a temporary directory")?;
    let database = FreshDatabase::create(args.backend, &args.server.postgres_url, work.path()).await?;
    let outcome = tokio::select! {
        outcome = measure(args, &bin, database.url(), work.path()) => outcome,
        () = interrupted() => Err(anyhow::anyhow!("interrupted")),
    };
    let removed = database.remove().await;
    let (off, on, always) = outcome?;
    removed?;
    let rows = rows(args.backend, &args.grpc, &off, &on, &always);
    let notes = crate::all::notes(&args.server.server_rust_log, Some(&h2load_version));
    crate::report::print(&rows, &notes);
    Ok(())
}

async fn measure(
    args: &TelemetryCommand,
    bin: &Path,
    database_url: &str,
    work_dir: &Path,
) -> anyhow::Result<(Runs, Runs, Runs)> {
    let collector = OtlpCollector::start_counting();
    let secret = token::random_secret();
    let token = token::mint(&secret)?;
    let prefix = fixtures::run_prefix();
    let target = fixtures::serial_number(&prefix, u64::from(args.grpc.seed_serials) / 2);
    let (mut off, mut on, mut always) = (Runs::default(), Runs::default(), Runs::default());
    let mut order = vec![(Setting::Off, 0)];
    for round in 1..=args.grpc.rounds.rounds {
        order.extend([(Setting::On, round), (Setting::Always, round), (Setting::Off, round)]);
    }
    for (index, (setting, round)) in order.into_iter().enumerate() {
        let (flags, env) = setting.flags_and_env(&collector.endpoint());
        let mut server = RunningServer::start(ServerConfig {
            bin,
            health_service: server::SERIAL_SERVICE,
            extra_args: &flags,
            env: &env,
            database_url,
            jwt_secret: &secret,
            rust_log: &args.server.server_rust_log,
            log_path: work_dir.join(format!("serial-svc-{}-{round}.log", setting.name())),
            startup_timeout: Duration::from_secs(args.server.startup_timeout_secs),
        })
        .await?;
        eprintln!("{}: serial-svc with {}", args.backend.name(), setting.describe());
        if index == 0 {
            seed(&server, &token, &prefix, args.grpc.seed_serials).await?;
        }
        let runs = match setting {
            Setting::Off => &mut off,
            Setting::On => &mut on,
            Setting::Always => &mut always,
        };
        let spans_before = collector.count();
        let outcome =
            load(&server, args, &token, &target, work_dir, &format!("{}-{round}", setting.name())).await;
        let outcome = outcome.and_then(|runs| server.ensure_running().map(|()| runs));
        if outcome.is_err() {
            server.print_log_tail();
        }
        server.stop().await;
        let (health, validate) = outcome?;
        runs.health.push(health);
        runs.validate.push(validate);
        if setting != Setting::Off {
            // The last batch may still be on its way (the process was killed): a floor.
            runs.spans.push(collector.count() - spans_before);
            ensure!(
                collector.count() > spans_before,
                "no span reached the receiver with {}",
                setting.describe()
            );
        }
    }
    Ok((off, on, always))
}

async fn seed(server: &RunningServer, token: &str, prefix: &str, count: u32) -> anyhow::Result<()> {
    eprintln!("seeding {count} serials");
    fixtures::create_catalog(server.channel(), token).await?;
    let mut client = regserial::client::serial_service(server.channel());
    for request in fixtures::batch_requests(prefix, u64::from(count), 10_000) {
        fixtures::create_batch(&mut client, token, request).await?;
    }
    Ok(())
}

/// h2load on Health/Check, then on ValidateSerial of `target`.
async fn load(
    server: &RunningServer,
    args: &TelemetryCommand,
    token: &str,
    target: &str,
    work_dir: &Path,
    name: &str,
) -> anyhow::Result<(Summary, Summary)> {
    let (health, validate) = probes(server, token, target).await?;
    let h2load = &args.grpc.h2load;
    let health = h2load.run(server.addr(), token, work_dir, &health, &format!("health-{name}")).await?;
    let validate = h2load.run(server.addr(), token, work_dir, &validate, &format!("validate-{name}")).await?;
    Ok((health, validate))
}

async fn probes(server: &RunningServer, token: &str, target: &str) -> anyhow::Result<(Probe, Probe)> {
    let health = HealthCheckRequest { service: String::new() };
    let mut client = tonic_health::pb::health_client::HealthClient::new(server.channel());
    let answer = rpc::call("Health/Check", CALL_DEADLINE, client.check(health.clone())).await?;
    let health = Probe {
        path: HEALTH_CHECK.to_owned(),
        body: grpc_frame::frame(&health)?,
        authorized: false,
        response_frame_len: grpc_frame::framed_len(answer.encoded_len()),
    };
    let validate = ValidateSerialRequest { serial_number: target.to_owned() };
    let mut client = regserial::client::serial_service(server.channel());
    let call = client.validate_serial(rpc::authorized(validate.clone(), token)?);
    let answer = rpc::call("ValidateSerial", CALL_DEADLINE, call).await?;
    ensure!(answer.valid, "ValidateSerial({target}) did not find it valid: reason {:?}", answer.reason());
    let validate = Probe {
        path: VALIDATE_SERIAL.to_owned(),
        body: grpc_frame::frame(&validate)?,
        authorized: true,
        response_frame_len: grpc_frame::framed_len(answer.encoded_len()),
    };
    Ok((health, validate))
}

fn rows(backend: Backend, args: &GrpcArgs, off: &Runs, on: &Runs, always: &Runs) -> Vec<Row> {
    let backend = backend.name();
    let load = format!(
        "h2load {}s, {} clients x {} streams",
        args.h2load.duration_secs, args.h2load.clients, args.h2load.streams
    );
    let row =
        |metric: String, value: String| Row { backend, metric, value, target: "—".to_owned(), met: None };
    let mut rows = Vec::new();
    for (setting, runs) in [(Setting::Off, off), (Setting::On, on), (Setting::Always, always)] {
        let around = if setting == Setting::Off { ", before and after each round" } else { ", each round" };
        rows.push(row(
            format!("Health/Check, {}, {load}{around}", setting.describe()),
            format!("{} req/s", rounds::list(&runs.health)),
        ));
        rows.push(row(
            format!("ValidateSerial, {}, {load}{around}", setting.describe()),
            format!("{} req/s", rounds::list(&runs.validate)),
        ));
        if !runs.spans.is_empty() {
            let spans: Vec<String> = runs.spans.iter().map(|n| thousands(*n)).collect();
            rows.push(row(
                format!("spans received by the bench's OTLP receiver, {}, each round", setting.describe()),
                spans.join(" / "),
            ));
        }
    }
    let on_ratio = Compared::of(&on.validate, &off.validate);
    rows.push(Row {
        backend,
        metric: "ValidateSerial throughput, telemetry on (ratio 0.1) / off, median of the rounds".to_owned(),
        value: on_ratio.describe(),
        target: format!("≥ {MIN_RATIO}"),
        met: Some(on_ratio.median() >= MIN_RATIO),
    });
    rows.push(row(
        "ValidateSerial throughput, every call sampled (always_on) / off, median of the rounds".to_owned(),
        Compared::of(&always.validate, &off.validate).describe(),
    ));
    rows.push(row(
        "Health/Check throughput, telemetry on (ratio 0.1) / off, median of the rounds".to_owned(),
        Compared::of(&on.health, &off.health).describe(),
    ));
    rows.push(row(
        "ValidateSerial / Health/Check of the same server, telemetry off, median of the runs".to_owned(),
        format!("{:.2}", per_server(off)),
    ));
    rows.push(row(
        "ValidateSerial / Health/Check of the same server, telemetry on (ratio 0.1), median of the runs"
            .to_owned(),
        format!("{:.2}", per_server(on)),
    ));
    rows
}

/// The median over a setting's runs of ValidateSerial's rate over the same server's Health/Check.
fn per_server(runs: &Runs) -> f64 {
    let ratios: Vec<f64> = runs
        .validate
        .iter()
        .zip(&runs.health)
        .map(|(validate, health)| validate.requests_per_sec / health.requests_per_sec)
        .collect();
    rounds::median(&ratios)
}
