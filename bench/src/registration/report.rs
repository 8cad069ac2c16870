//! The registration figures as rows of the bench's Markdown table.

use super::cpu::Usage;
use super::probes::Measured;
use super::{LIST_PAGE, RegistrationReport};
use crate::args::Backend;
use crate::memory::megabytes;
use crate::report::{Row, thousands};
use crate::rounds::{self, Compared};

/// CreateRegistration / ClaimSerial throughput, per backend.
fn min_create_to_claim(backend: Backend) -> f64 {
    match backend {
        Backend::Postgres => 0.45,
        Backend::Sqlite => 0.5,
    }
}
/// Per single-serial creation on PostgreSQL: the attempt, then the registration written once.
const MAX_COMMITS: f64 = 2.0;
const MAX_ROW_WRITES: f64 = 6.0;
const MIN_READ_TO_HEALTH: f64 = 0.6;
/// "As fast at the millionth row as at the first", within the noise of a shared machine.
const MIN_DEEP_TO_FIRST: f64 = 0.9;

pub fn rows(report: &RegistrationReport) -> Vec<Row> {
    let backend = report.backend.name();
    let args = &report.args;
    let rate = |value: f64| thousands(value.round() as u64);
    let info =
        |metric: String, value: String| Row { backend, metric, value, target: "—".to_owned(), met: None };
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
    let rounds = report.creates.len();
    let compared = |metric: String, compared: Compared, min: f64| Row {
        backend,
        metric: format!("{metric}, median of {rounds} rounds"),
        value: compared.describe(),
        target: format!("≥ {min}"),
        met: Some(compared.median() >= min),
    };
    let read_ratio = |name: &str, runs: &[Measured]| {
        compared(format!("{name} / Health/Check throughput"), report.read_compared(runs), MIN_READ_TO_HEALTH)
    };
    let reads = |runs: &[Measured]| format!("{} req/s", rounds::list(runs));
    let (first_claim, first_create) = (&report.claims[0], &report.creates[0]);
    let writes = report.writes.map(|w| Row {
        backend,
        metric: format!(
            "CreateRegistration one at a time ({} calls): registration-svc's database commits / row writes per creation (pg_stat_database, pg_stat_user_tables), registrations updated",
            thousands(w.creations)
        ),
        value: format!(
            "{:.2} / {:.2} (+ {:.2} for the serial's customer tag), {} updated",
            w.commits,
            w.rows - w.tag_rows,
            w.tag_rows,
            w.registrations_updated
        ),
        target: format!("≤ {MAX_COMMITS} / ≤ {MAX_ROW_WRITES}, 0"),
        // Counts per creation are whole numbers; what is left is the background's noise.
        met: Some(
            w.commits.round() <= MAX_COMMITS
                && (w.rows - w.tag_rows).round() <= MAX_ROW_WRITES
                && w.registrations_updated == 0,
        ),
    });
    let mut rows = vec![
        info(
            "registrations seeded in registration-svc's database (set-based SQL)".to_owned(),
            format!("{} in {:.1}s", thousands(report.seeded), report.seed_time.as_secs_f64()),
        ),
        info(
            format!("ClaimSerial on serial-svc, {closed_loop}, before and after each round"),
            format!(
                "{} calls/s (p50 of the first {:.1?})",
                rounds::list(&report.claims),
                first_claim.summary.latency(0.5)
            ),
        ),
        info(
            format!("CreateRegistration, 1 line item, on registration-svc, {closed_loop}, each round"),
            format!(
                "{} calls/s (p50 of the first {:.1?}, p99 {:.1?})",
                rounds::list(&report.creates),
                first_create.summary.latency(0.5),
                first_create.summary.latency(0.99)
            ),
        ),
        compared(
            "CreateRegistration / ClaimSerial throughput".to_owned(),
            report.create_compared(),
            min_create_to_claim(report.backend),
        ),
    ];
    rows.extend(writes);
    rows.extend([
        cores("ClaimSerial (first run)", &first_claim.cpu),
        cores("CreateRegistration (first round)", &first_create.cpu),
        info(
            format!("registration-svc Health/Check, {h2load}, before and after each round"),
            reads(&report.health),
        ),
        info(format!("GetRegistration, {h2load}, each round"), reads(&report.gets)),
        info(
            format!("LookupRegistration by registration_number, {h2load}, each round"),
            reads(&report.lookups_by_number),
        ),
        info(
            format!("LookupRegistration by serial_number, {h2load}, each round"),
            reads(&report.lookups_by_serial),
        ),
        read_ratio("GetRegistration", &report.gets),
        read_ratio("LookupRegistration (number)", &report.lookups_by_number),
        read_ratio("LookupRegistration (serial)", &report.lookups_by_serial),
        cores("GetRegistration (first round)", &report.gets[0].cpu),
        info(
            format!("ListRegistrations, first page of {LIST_PAGE}, {h2load}, before and after each round"),
            reads(&report.list_first),
        ),
        info(
            format!(
                "ListRegistrations, page of {LIST_PAGE} after row {} (token from a walk), {h2load}, each round",
                thousands(report.walk.rows)
            ),
            reads(&report.list_deep),
        ),
        compared(
            "ListRegistrations deep page / first page throughput".to_owned(),
            Compared::of(&report.list_deep, &report.list_first),
            MIN_DEEP_TO_FIRST,
        ),
        cores("ListRegistrations, deep page (first round)", &report.list_deep[0].cpu),
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
    ]);
    rows
}

/// What the figures depend on besides the code.
pub fn notes(rust_log: &str, h2load_version: &str) -> Vec<String> {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    vec![format!(
        "serial-svc and registration-svc release builds with RUST_LOG={rust_log}, {h2load_version}; \
         {cpus} CPUs shared by the bench, both services and the database."
    )]
}
