//! The registration figures as rows of the bench's Markdown table.

use super::cpu::Usage;
use super::{LIST_PAGE, RegistrationReport};
use crate::memory::megabytes;
use crate::report::{Row, thousands};

const MIN_CREATE_TO_CLAIM: f64 = 0.5;
const MIN_READ_TO_HEALTH: f64 = 0.6;
/// "As fast at the millionth row as at the first", within the noise of a shared machine.
const MIN_DEEP_TO_FIRST: f64 = 0.9;

pub fn rows(report: &RegistrationReport) -> Vec<Row> {
    let backend = report.backend.name();
    let args = &report.args;
    let rate = |value: f64| thousands(value.round() as u64);
    let info =
        |metric: String, value: String| Row { backend, metric, value, target: "—".to_owned(), met: None };
    let ratio = |metric: String, value: f64, min: f64| Row {
        backend,
        metric,
        value: format!("{value:.2}"),
        target: format!("≥ {min}"),
        met: Some(value >= min),
    };
    let cores = |name: &str, usage: &Usage| {
        info(
            format!(
                "CPU cores during {name}: registration-svc / serial-svc / bench / PostgreSQL backends / rest of the machine"
            ),
            match usage.processes.as_slice() {
                [registration, serial, bench] => format!(
                    "{registration:.2} / {serial:.2} / {bench:.2} / {:.2} / {:.2}",
                    usage.postgres,
                    usage.rest()
                ),
                _ => "?".to_owned(),
            },
        )
    };
    let closed_loop = format!(
        "closed loop, {} in flight over {} connections, {}s",
        args.concurrency, args.connections, args.loop_secs
    );
    let h2load = format!(
        "h2load {}s, {} clients x {} streams",
        args.h2load.duration_secs, args.h2load.clients, args.h2load.streams
    );
    let create = &report.create.summary;
    let create_ratio = create.per_sec() / report.claim_mean();
    let read_ratio = |name: &str, value: f64| {
        ratio(format!("{name} / Health/Check throughput"), value / report.health_mean(), MIN_READ_TO_HEALTH)
    };
    let first = report.list_first.summary.requests_per_sec;
    let deep = report.list_deep.summary.requests_per_sec;
    vec![
        info(
            "registrations seeded in registration-svc's database (set-based SQL)".to_owned(),
            format!("{} in {:.1}s", thousands(report.seeded), report.seed_time.as_secs_f64()),
        ),
        info(
            format!("ClaimSerial on serial-svc, {closed_loop} (mean of first and last run)"),
            format!(
                "{} calls/s (first {}, last {}; p50 {:.1?})",
                rate(report.claim_mean()),
                rate(report.claim_first.summary.per_sec()),
                rate(report.claim_last.summary.per_sec()),
                report.claim_first.summary.latency(0.5)
            ),
        ),
        info(
            format!("CreateRegistration, 1 line item, on registration-svc, {closed_loop}"),
            format!(
                "{} calls/s (p50 {:.1?}, p99 {:.1?})",
                rate(create.per_sec()),
                create.latency(0.5),
                create.latency(0.99)
            ),
        ),
        ratio("CreateRegistration / ClaimSerial throughput".to_owned(), create_ratio, MIN_CREATE_TO_CLAIM),
        cores("ClaimSerial (first run)", &report.claim_first.cpu),
        cores("CreateRegistration", &report.create.cpu),
        info(
            format!("registration-svc Health/Check, {h2load} (mean of first and last run)"),
            format!(
                "{} req/s (first {}, last {})",
                rate(report.health_mean()),
                rate(report.health_first.summary.requests_per_sec),
                rate(report.health_last.summary.requests_per_sec)
            ),
        ),
        info(
            format!("GetRegistration, {h2load}"),
            format!("{} req/s", rate(report.get.summary.requests_per_sec)),
        ),
        info(
            format!("LookupRegistration by registration_number, {h2load}"),
            format!("{} req/s", rate(report.lookup_number.summary.requests_per_sec)),
        ),
        info(
            format!("LookupRegistration by serial_number, {h2load}"),
            format!("{} req/s", rate(report.lookup_serial.summary.requests_per_sec)),
        ),
        read_ratio("GetRegistration", report.get.summary.requests_per_sec),
        read_ratio("LookupRegistration (number)", report.lookup_number.summary.requests_per_sec),
        read_ratio("LookupRegistration (serial)", report.lookup_serial.summary.requests_per_sec),
        cores("GetRegistration", &report.get.cpu),
        info(
            format!("ListRegistrations, first page of {LIST_PAGE}, {h2load}"),
            format!("{} req/s", rate(first)),
        ),
        info(
            format!(
                "ListRegistrations, page of {LIST_PAGE} after row {} (token from a walk), {h2load}",
                thousands(report.walk.rows)
            ),
            format!("{} req/s", rate(deep)),
        ),
        ratio(
            "ListRegistrations deep page / first page throughput".to_owned(),
            deep / first,
            MIN_DEEP_TO_FIRST,
        ),
        cores("ListRegistrations, deep page", &report.list_deep.cpu),
        info(
            "walk to the deep page: ListRegistrations pages of 1000, one after the other".to_owned(),
            format!(
                "{} rows in {:.1}s ({} rows/s)",
                thousands(report.walk.rows),
                report.walk.elapsed.as_secs_f64(),
                rate(report.walk.rows as f64 / report.walk.elapsed.as_secs_f64())
            ),
        ),
        info(
            "registration-svc RSS idle / peak (VmRSS after startup / VmHWM at the end)".to_owned(),
            format!("{:.1} MB / {:.1} MB", megabytes(report.idle.now), megabytes(report.after.peak)),
        ),
    ]
}

/// What the figures depend on besides the code.
pub fn notes(rust_log: &str, h2load_version: &str) -> Vec<String> {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    vec![format!(
        "serial-svc and registration-svc release builds with RUST_LOG={rust_log}, {h2load_version}; \
         {cpus} CPUs shared by the bench, both services and the database."
    )]
}
