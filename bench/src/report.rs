//! The Markdown table of results, ready to paste in the README, with the command that produced it.

use crate::batch::BatchReport;
use crate::command_line;
use crate::grpc::GrpcReport;
use crate::memory::megabytes;
pub(crate) use crate::rounds::thousands;
use crate::rounds::{self, Compared};

const MAX_IDLE_MB: f64 = 30.0;
const MAX_BATCH_PEAK_MB: f64 = 150.0;
const MIN_RATIO_TO_HEALTH: f64 = 0.6;

/// One line of the table; `met` is `None` for figures without a target.
#[derive(Debug, Clone)]
pub struct Row {
    pub backend: &'static str,
    pub metric: String,
    pub value: String,
    pub target: String,
    pub met: Option<bool>,
}

impl Row {
    /// A figure without a target.
    pub fn info(backend: &'static str, metric: String, value: String) -> Self {
        Self { backend, metric, value, target: "—".to_owned(), met: None }
    }

    /// A figure held against `target`, met or not.
    pub fn target(backend: &'static str, metric: String, value: String, target: String, met: bool) -> Self {
        Self { backend, metric, value, target, met: Some(met) }
    }
}

/// What the figures depend on besides the code.
pub fn notes(rust_log: &str, h2load_version: Option<&str>) -> Vec<String> {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let h2load = h2load_version.map(|version| format!(", {version}")).unwrap_or_default();
    vec![format!(
        "serial-svc release build with RUST_LOG={rust_log}{h2load}; {cpus} CPUs shared by the bench, serial-svc and the database."
    )]
}

pub fn batch_rows(report: &BatchReport) -> Vec<Row> {
    let backend = report.backend.name();
    let args = &report.args;
    let rate = report.serials_per_sec();
    let idle = megabytes(report.idle.now);
    let peak = megabytes(report.after.peak);
    vec![
        // An absolute rate moves with the machine: `import --backend postgres` holds it beside
        // PostgreSQL's COPY of as many rows instead.
        Row::info(
            backend,
            format!(
                "BatchCreateSerials, {} batches of {} serials, one at a time",
                args.batches,
                thousands(u64::from(args.batch_size))
            ),
            format!("{} serials/s", thousands(rate.round() as u64)),
        ),
        Row::target(
            backend,
            "serial-svc RSS idle (VmRSS after startup)".to_owned(),
            format!("{idle:.1} MB"),
            format!("≤ {MAX_IDLE_MB} MB"),
            idle <= MAX_IDLE_MB,
        ),
        Row::target(
            backend,
            "serial-svc RSS peak, batch run (VmHWM)".to_owned(),
            format!("{peak:.1} MB"),
            format!("≤ {MAX_BATCH_PEAK_MB} MB"),
            peak <= MAX_BATCH_PEAK_MB,
        ),
    ]
}

pub fn grpc_rows(report: &GrpcReport) -> Vec<Row> {
    let backend = report.backend.name();
    let args = &report.args;
    let load = format!(
        "{}s, {} clients x {} streams",
        args.h2load.duration_secs, args.h2load.clients, args.h2load.streams
    );
    let rounds = report.get_serial.len();
    let ratio = |name: &str, compared: Compared| {
        Row::target(
            backend,
            format!("{name} / Health/Check throughput, median of {rounds} rounds"),
            compared.describe(),
            format!("≥ {MIN_RATIO_TO_HEALTH}"),
            compared.median() >= MIN_RATIO_TO_HEALTH,
        )
    };
    let seeded = thousands(u64::from(args.seed_serials));
    let runs = |metric: String, runs: &[crate::h2load::Summary]| {
        Row::info(backend, metric, format!("{} req/s", rounds::list(runs)))
    };
    vec![
        runs(format!("Health/Check, h2load {load}, before and after each round"), &report.health),
        runs(format!("GetSerial, h2load {load}, {seeded} serials, each round"), &report.get_serial),
        runs(format!("ValidateSerial, h2load {load}, {seeded} serials, each round"), &report.validate_serial),
        ratio("GetSerial", report.get_serial_compared()),
        ratio("ValidateSerial", report.validate_serial_compared()),
    ]
}

/// The table alone.
pub fn markdown(rows: &[Row]) -> String {
    let mut table = String::from("| backend | metric | value | target |\n|---|---|---|---|\n");
    for row in rows {
        table.push_str(&format!("| {} | {} | {} | {} |\n", row.backend, row.metric, row.value, row.target));
    }
    table
}

/// The table, which targets were missed, and how the figures were produced.
pub fn print(rows: &[Row], notes: &[String]) {
    println!("{}", markdown(rows));
    let missed: Vec<String> = rows
        .iter()
        .filter(|row| row.met == Some(false))
        .map(|row| format!("{} {} ({}, target {})", row.backend, row.metric, row.value, row.target))
        .collect();
    let targets = rows.iter().filter(|row| row.met.is_some()).count();
    if missed.is_empty() {
        println!("All {targets} targets met.");
    } else {
        println!("{} of {targets} targets missed:", missed.len());
        for line in &missed {
            println!("- {line}");
        }
    }
    println!();
    println!("Command: `{}`", command_line::current());
    for note in notes {
        println!("{note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_table_has_one_line_per_row() {
        let row = Row {
            backend: "SQLite",
            metric: "m".to_owned(),
            value: "1".to_owned(),
            target: "≥ 0.6".to_owned(),
            met: Some(true),
        };
        let table = markdown(&[row.clone(), row]);
        assert_eq!(table.lines().count(), 4);
        assert_eq!(table.lines().nth(2), Some("| SQLite | m | 1 | ≥ 0.6 |"));
    }
}
