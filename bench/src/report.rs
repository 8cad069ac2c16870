//! The Markdown table of results, ready to paste in the README, with the command that produced it.

use crate::batch::BatchReport;
use crate::command_line;
use crate::grpc::GrpcReport;
use crate::memory::megabytes;
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

pub fn batch_rows(report: &BatchReport) -> Vec<Row> {
    let backend = report.backend.name();
    let args = &report.args;
    let rate = report.serials_per_sec();
    let idle = megabytes(report.idle.now);
    let peak = megabytes(report.after.peak);
    vec![
        Row {
            backend,
            metric: format!(
                "BatchCreateSerials, {} batches of {} serials, {} in flight",
                args.batches,
                thousands(u64::from(args.batch_size)),
                args.concurrency
            ),
            value: format!("{} serials/s", thousands(rate.round() as u64)),
            // An absolute rate moves with the machine: `regserial-bench import --backend
            // postgres` holds it beside PostgreSQL's COPY of as many rows instead.
            target: "— (÷ COPY: `import`)".to_owned(),
            met: None,
        },
        Row {
            backend,
            metric: "serial-svc RSS idle (VmRSS after startup)".to_owned(),
            value: format!("{idle:.1} MB"),
            target: format!("≤ {MAX_IDLE_MB} MB"),
            met: Some(idle <= MAX_IDLE_MB),
        },
        Row {
            backend,
            metric: "serial-svc RSS peak, batch run (VmHWM)".to_owned(),
            value: format!("{peak:.1} MB"),
            target: format!("≤ {MAX_BATCH_PEAK_MB} MB"),
            met: Some(peak <= MAX_BATCH_PEAK_MB),
        },
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
    let ratio = |name: &str, compared: Compared| Row {
        backend,
        metric: format!("{name} / Health/Check throughput, median of {rounds} rounds"),
        value: compared.describe(),
        target: format!("≥ {MIN_RATIO_TO_HEALTH}"),
        met: Some(compared.median() >= MIN_RATIO_TO_HEALTH),
    };
    let info =
        |metric: String, value: String| Row { backend, metric, value, target: "—".to_owned(), met: None };
    vec![
        info(
            format!("Health/Check, h2load {load}, before and after each round"),
            format!("{} req/s", rounds::list(&report.health)),
        ),
        info(
            format!("GetSerial, h2load {load}, {} serials, each round", thousands(report.seeded)),
            format!("{} req/s", rounds::list(&report.get_serial)),
        ),
        info(
            format!("ValidateSerial, h2load {load}, {} serials, each round", thousands(report.seeded)),
            format!("{} req/s", rounds::list(&report.validate_serial)),
        ),
        ratio("GetSerial", report.get_serial_compared()),
        ratio("ValidateSerial", report.validate_serial_compared()),
        info(
            "serial-svc RSS idle / peak, h2load runs".to_owned(),
            format!("{:.1} MB / {:.1} MB", megabytes(report.idle.now), megabytes(report.after.peak)),
        ),
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

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
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
