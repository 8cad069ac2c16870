//! `import`: serials through `regserial import` (the release CLI against the release serial-svc),
//! held against PostgreSQL's own `COPY` of the same file in the same run, the physical limit of
//! storing unique serials on the machine; `BatchCreateSerials` for as many serials beside the
//! same COPY; and serial-svc's peak resident memory after an import of `--rows` and of
//! `--memory-rows`, each on a fresh server.
//!
//! On PostgreSQL the COPY runs before the import, between the import and the batches, and after
//! the batches (`C I C B C`), each into a fresh table, so that each measured rate is compared
//! with the mean of the two COPY runs around it, as the other benches' rounds are.

use std::io::{BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use sqlx::Connection as _;

use crate::args::{Backend, BatchArgs, ServerArgs};
use crate::batch;
use crate::database::{self, FreshDatabase};
use crate::fixtures;
use crate::harness::{self, Bench};
use crate::memory::{self, megabytes};
use crate::report::{self, Row, thousands};
use crate::rounds::{self, Compared, Rate};
use crate::server;

/// The import's targets: wall time, its rate over COPY's, and the growth of the peak.
const MAX_IMPORT_SECS: f64 = 10.0;
const MIN_RATIO_TO_COPY: f64 = 0.3;
const MAX_PEAK_GROWTH_MB: f64 = 50.0;
/// Serials per `BatchCreateSerials` call (the API's most).
const BATCH_SIZE: u32 = 10_000;
/// The columns of the generated file: every one `BatchCreateSerials` is given by the batch bench.
const HEADER: &str = "serialNumber,productId,validFrom,validUntil,registerUntil,customerTags";
/// The baseline's table: the file's columns typed as serial-svc reads them, and the serials' key.
const BASELINE_TABLE: &str = "DROP TABLE IF EXISTS copy_baseline; \
     CREATE TABLE copy_baseline (org TEXT NOT NULL DEFAULT 'bench', serial_number TEXT NOT NULL, \
     product_id TEXT, valid_from TIMESTAMPTZ, valid_until TIMESTAMPTZ, register_until TIMESTAMPTZ, \
     customer_tags TEXT); \
     CREATE UNIQUE INDEX copy_baseline_key ON copy_baseline (org, lower(serial_number))";
const BASELINE_COPY: &str = "COPY copy_baseline (serial_number, product_id, valid_from, valid_until, \
     register_until, customer_tags) FROM STDIN (FORMAT csv, HEADER true)";
/// Bytes of the file per COPY message.
const COPY_CHUNK: usize = 1 << 20;

#[derive(Debug, clap::Args)]
pub struct ImportCommand {
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    /// Rows of the file imported, copied and created by BatchCreateSerials.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub rows: u64,
    /// Rows of the second import, on a fresh server, whose peak memory is compared with the
    /// first's (0: none).
    #[arg(long, default_value_t = 5_000_000, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    pub memory_rows: u64,
    /// The `regserial` CLI binary (default: `regserial` next to this executable).
    #[arg(long)]
    pub regserial_bin: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Rows stored in a time.
#[derive(Debug, Clone, Copy)]
struct Timed {
    rows: u64,
    elapsed: Duration,
}

impl Rate for Timed {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
}

/// One `regserial import` on a fresh server: its time, and serial-svc's peak resident memory.
#[derive(Debug, Clone, Copy)]
struct Imported {
    timed: Timed,
    peak: u64,
}

pub async fn run(args: &ImportCommand) -> anyhow::Result<()> {
    let cli = server::resolve_bin(args.regserial_bin.as_deref(), "regserial")?;
    let files = tempfile::Builder::new().prefix("regserial-bench-import-").tempdir()?;
    let file = write_csv(files.path(), args.rows)?;
    let baseline = if args.backend == Backend::Postgres {
        Some(FreshDatabase::create(Backend::Postgres, &args.server.postgres_url, files.path()).await?)
    } else {
        None
    };
    let outcome = measure(args, &cli, &file, baseline.as_ref()).await;
    if let Some(baseline) = baseline {
        baseline.remove().await?;
    }
    let rows = outcome?;
    report::print(&rows, &report::notes(&args.server.server_rust_log, None));
    Ok(())
}

async fn measure(
    args: &ImportCommand,
    cli: &Path,
    file: &Path,
    baseline: Option<&FreshDatabase>,
) -> anyhow::Result<Vec<Row>> {
    let mut copies = Vec::new();
    if let Some(db) = baseline {
        copies.push(copy(db, file, args.rows).await?);
    }
    let imported = import_on_fresh_server(args, cli, file, args.rows).await?;
    if let Some(db) = baseline {
        copies.push(copy(db, file, args.rows).await?);
    }
    let batches = BatchArgs {
        batches: u32::try_from(args.rows.div_ceil(u64::from(BATCH_SIZE)))?,
        batch_size: BATCH_SIZE,
    };
    let batched = batch::run(&args.server, args.backend, &batches).await?;
    let batched = Timed { rows: batched.serials, elapsed: batched.elapsed };
    if let Some(db) = baseline {
        copies.push(copy(db, file, args.rows).await?);
    }
    let memory = match args.memory_rows {
        0 => None,
        rows => {
            let dir = tempfile::Builder::new().prefix("regserial-bench-import-").tempdir()?;
            let file = write_csv(dir.path(), rows)?;
            Some((rows, import_on_fresh_server(args, cli, &file, rows).await?.peak))
        }
    };
    Ok(rows(args, imported, batched, &copies, memory))
}

fn rows(
    args: &ImportCommand,
    imported: Imported,
    batched: Timed,
    copies: &[Timed],
    memory: Option<(u64, u64)>,
) -> Vec<Row> {
    let backend = args.backend.name();
    let row = |metric: String, value: String, target: Option<(String, bool)>| match target {
        Some((target, met)) => Row::target(backend, metric, value, target, met),
        None => Row::info(backend, metric, value),
    };
    let secs = imported.timed.elapsed.as_secs_f64();
    let per_sec = |timed: Timed, unit| format!("{} {unit}/s", thousands(timed.rate().round() as u64));
    let calls = batched.rows.div_ceil(u64::from(BATCH_SIZE));
    let batches = row(
        format!("BatchCreateSerials, {calls} calls of {}, one at a time", thousands(u64::from(BATCH_SIZE))),
        per_sec(batched, "serials"),
        None,
    );
    let mut rows = vec![row(
        format!("`regserial import` of {} rows ({HEADER}), to the job's end", thousands(args.rows)),
        format!("{secs:.2} s ({})", per_sec(imported.timed, "rows")),
        Some((format!("≤ {MAX_IMPORT_SECS} s"), secs <= MAX_IMPORT_SECS)),
    )];
    if let [before, between, after] = copies {
        let to_import = Compared::new(&[imported.timed.rate()], &[before.rate(), between.rate()]);
        let to_batches = Compared::new(&[batched.rate()], &[between.rate(), after.rate()]);
        rows.extend([
            row(
                "PostgreSQL `COPY` of the same file into a table unique on (org, lower(serial)): before the import, between, after the batches".to_owned(),
                format!("{} rows/s", rounds::list(copies)),
                None,
            ),
            row(
                "`regserial import` ÷ the COPY runs around it".to_owned(),
                to_import.describe(),
                Some((format!("≥ {MIN_RATIO_TO_COPY}"), to_import.median() >= MIN_RATIO_TO_COPY)),
            ),
            batches,
            row("BatchCreateSerials ÷ the COPY runs around it".to_owned(), to_batches.describe(), None),
        ]);
    } else {
        rows.push(batches);
    }
    let first = megabytes(imported.peak);
    rows.push(row(
        format!("serial-svc peak RSS (VmHWM), import of {} rows", thousands(args.rows)),
        format!("{first:.1} MB"),
        None,
    ));
    if let Some((memory_rows, peak)) = memory {
        let second = megabytes(peak);
        rows.push(row(
            format!("serial-svc peak RSS (VmHWM), import of {} rows, fresh server", thousands(memory_rows)),
            format!("{second:.1} MB"),
            None,
        ));
        rows.push(row(
            "serial-svc peak RSS, the larger import less the smaller".to_owned(),
            format!("{:+.1} MB", second - first),
            Some((format!("≤ {MAX_PEAK_GROWTH_MB} MB"), second - first <= MAX_PEAK_GROWTH_MB)),
        ));
    }
    rows
}

/// A file of `rows` serials with every column of [`HEADER`], numbered as the batch bench's.
fn write_csv(dir: &Path, rows: u64) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("serials-{rows}.csv"));
    let mut out = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    let prefix = fixtures::run_prefix();
    writeln!(out, "{HEADER}")?;
    for index in 0..rows {
        let number = fixtures::serial_number(&prefix, index);
        writeln!(out, "{number},{},2026-01-01,2028-01-01,2027-01-01,bench", fixtures::PRODUCT_SKU)?;
    }
    out.into_inner().map_err(|err| err.into_error())?.sync_all()?;
    eprintln!("wrote {} rows to {}", thousands(rows), path.display());
    Ok(path)
}

/// `regserial import FILE` against a fresh serial-svc, run to the job's end; fails unless every
/// row was created.
async fn import_on_fresh_server(
    args: &ImportCommand,
    cli: &Path,
    file: &Path,
    rows: u64,
) -> anyhow::Result<Imported> {
    harness::with_server(&args.server, args.backend, |bench: Bench| async move {
        fixtures::create_catalog(bench.channel.clone(), &bench.token).await?;
        eprintln!("{}: importing {} rows with {}", args.backend.name(), thousands(rows), cli.display());
        let started = Instant::now();
        let output = tokio::process::Command::new(cli)
            .arg("import")
            .arg(file)
            .args(["--endpoint", &format!("http://{}", bench.addr), "--quiet"])
            // In the environment rather than argv, where any local user could read it.
            .env("REGSERIAL_TOKEN", &bench.token)
            .kill_on_drop(true)
            .output()
            .await
            .with_context(|| format!("cannot run {}", cli.display()))?;
        let elapsed = started.elapsed();
        let summary = String::from_utf8_lossy(&output.stdout);
        ensure!(
            output.status.success() && summary.contains(&format!(" {rows} created, 0 failed")),
            "regserial import did not create every row ({}): {summary}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let peak = memory::read(bench.pid)?.peak;
        eprint!("{}: {summary}", args.backend.name());
        Ok(Imported { timed: Timed { rows, elapsed }, peak })
    })
    .await
}

/// `COPY` of `file` into a fresh baseline table of `db`, timed.
async fn copy(db: &FreshDatabase, file: &Path, rows: u64) -> anyhow::Result<Timed> {
    let mut conn = database::connect(db.url()).await?;
    sqlx::raw_sql(BASELINE_TABLE).execute(&mut conn).await.context("cannot create the COPY table")?;
    let mut input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut chunk = vec![0; COPY_CHUNK];
    let started = Instant::now();
    let mut copy = conn.copy_in_raw(BASELINE_COPY).await?;
    loop {
        let read = input.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        copy.send(&chunk[..read]).await?;
    }
    let copied = copy.finish().await.context("COPY failed")?;
    let timed = Timed { rows, elapsed: started.elapsed() };
    ensure!(copied == rows, "COPY stored {copied} rows of {rows}");
    eprintln!("PostgreSQL COPY: {} rows/s", thousands(timed.rate().round() as u64));
    conn.close().await.ok();
    Ok(timed)
}
