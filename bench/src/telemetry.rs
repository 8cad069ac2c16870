//! `telemetry`: what traces and metrics cost serial-svc. The same release binary, on one
//! database seeded once, is started again and again with telemetry off, on (metrics endpoint,
//! spans exported to an OTLP receiver inside the bench, sampler `parentbased_traceidratio` at
//! 0.1) and on with every call sampled (`always_on`), alternately: `off on all off on all off`…
//! Each start runs h2load on `Health/Check` (the baseline of the same server) and on
//! `ValidateSerial`. The figure held against the target (≥ 0.9) is the median over the rounds of
//! ValidateSerial's rate with telemetry on over its rate with it off in the runs around it.

use std::path::Path;

use anyhow::ensure;
use shared::testing::OtlpCollector;

use crate::args::{Backend, GrpcArgs};
use crate::cli::GrpcCommand;
use crate::grpc::{health_probe, validate_serial_probe};
use crate::h2load::{self, Summary};
use crate::harness;
use crate::report::{self, Row, thousands};
use crate::rounds::{self, Compared};
use crate::{fixtures, server, token};

/// Telemetry on may cost at most a tenth of ValidateSerial's throughput.
const MIN_RATIO: f64 = 0.9;

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

pub async fn run(args: &GrpcCommand) -> anyhow::Result<()> {
    let h2load_version = h2load::ensure_installed(&args.grpc.h2load.h2load_bin).await?;
    let bin = server::resolve_bin(args.server.serial_svc_bin.as_deref(), "serial-svc")?;
    let (off, on, always) = harness::with_database(&args.server, args.backend, |url, work_dir| async move {
        measure(args, &bin, &url, &work_dir).await
    })
    .await?;
    let rows = rows(args.backend, &args.grpc, &off, &on, &always);
    report::print(&rows, &report::notes(&args.server.server_rust_log, Some(&h2load_version)));
    Ok(())
}

async fn measure(
    args: &GrpcCommand,
    bin: &Path,
    database_url: &str,
    work_dir: &Path,
) -> anyhow::Result<(Runs, Runs, Runs)> {
    let collector = OtlpCollector::start_counting();
    let secret = token::random_secret();
    let token = token::mint(&secret)?;
    let mut target = None;
    let (mut off, mut on, mut always) = (Runs::default(), Runs::default(), Runs::default());
    let mut order = vec![(Setting::Off, 0)];
    for round in 1..=args.grpc.rounds.rounds {
        order.extend([(Setting::On, round), (Setting::Always, round), (Setting::Off, round)]);
    }
    for (setting, round) in order {
        let name = format!("{}-{round}", setting.name());
        let (flags, env) = setting.flags_and_env(&collector.endpoint());
        let log = work_dir.join(format!("serial-svc-{name}.log"));
        let mut server =
            harness::start_serial_svc(&args.server, bin, database_url, &secret, log, &flags, &env).await?;
        eprintln!("{}: serial-svc with {}", args.backend.name(), setting.describe());
        let spans_before = collector.count();
        let outcome = async {
            let target = match &target {
                Some(target) => target,
                None => {
                    target.insert(fixtures::seed(server.channel(), &token, args.grpc.seed_serials).await?)
                }
            };
            let health = health_probe(server.channel()).await?;
            let validate = validate_serial_probe(server.channel(), &token, target).await?;
            let h2load = &args.grpc.h2load;
            let health =
                h2load.run(server.addr(), &token, work_dir, &health, &format!("health-{name}")).await?;
            let validate =
                h2load.run(server.addr(), &token, work_dir, &validate, &format!("validate-{name}")).await?;
            server.ensure_running()?;
            anyhow::Ok((health, validate))
        }
        .await;
        if outcome.is_err() {
            server.print_log_tail();
        }
        server.stop().await;
        let (health, validate) = outcome?;
        let runs = match setting {
            Setting::Off => &mut off,
            Setting::On => &mut on,
            Setting::Always => &mut always,
        };
        runs.health.push(health);
        runs.validate.push(validate);
        if setting != Setting::Off {
            // The last batch may still be on its way (the process was killed): a floor.
            let spans = collector.count() - spans_before;
            ensure!(spans > 0, "no span reached the receiver with {}", setting.describe());
            runs.spans.push(spans);
        }
    }
    Ok((off, on, always))
}

fn rows(backend: Backend, args: &GrpcArgs, off: &Runs, on: &Runs, always: &Runs) -> Vec<Row> {
    let backend = backend.name();
    let load = format!(
        "h2load {}s, {} clients x {} streams",
        args.h2load.duration_secs, args.h2load.clients, args.h2load.streams
    );
    let row = |metric: String, value: String| Row::info(backend, metric, value);
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
    rows.push(Row::target(
        backend,
        "ValidateSerial throughput, telemetry on (ratio 0.1) / off, median of the rounds".to_owned(),
        on_ratio.describe(),
        format!("≥ {MIN_RATIO}"),
        on_ratio.median() >= MIN_RATIO,
    ));
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
