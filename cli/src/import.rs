//! `regserial import FILE.csv`: uploads the file through `ImportSerials` in chunks, follows the
//! job with a progress bar (rows/s, ETA), prints a summary, and writes the failed rows it was
//! told about to `FILE.failed.csv`. The import id is derived from the file (path, size, time
//! of change) unless given, so running the same command again after Ctrl-C resumes the job: the
//! server skips the lines it already committed.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use regserial::serial::v1::{
    GetImportJobRequest, ImportJob, ImportJobState, ImportSerialsRequest, WatchImportJobRequest,
};
use sha2::{Digest as _, Sha256};

use crate::remote::{Client, RemoteArgs, failed};

/// Bytes per uploaded message.
const CHUNK: usize = 256 * 1024;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The CSV file: header `serialNumber` and any of `productId`, `warrantyId`, `validFrom`,
    /// `validUntil`, `registerUntil`, `customerTags`.
    pub file: PathBuf,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The job's id (default: derived from the file's path, size and time of change, so the
    /// same command resumes the same job).
    #[arg(long)]
    pub import_id: Option<String>,
    /// No progress bar (for scripts and logs).
    #[arg(long)]
    pub quiet: bool,
}

/// Imports the file; `Ok(true)` when the job SUCCEEDED.
pub async fn run(args: ImportArgs) -> anyhow::Result<bool> {
    let file = &args.file;
    let meta = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    let import_id = match &args.import_id {
        Some(id) => id.clone(),
        None => derived_id(file, &meta)?,
    };
    let lines = count_lines(file)?;
    let mut client = args.remote.client().await?;
    let bar = progress_bar(lines.saturating_sub(1), args.quiet);
    bar.set_message(format!("import {import_id}"));
    let mut upload = tokio::spawn(upload(client.clone(), file.clone(), import_id.clone()));
    let mut follower = client.clone();
    let watch = follow(&mut client, &import_id, &bar);
    tokio::pin!(watch);
    // A refused upload (a bad header) never creates the job: stop following at once.
    let (resent, job) = tokio::select! {
        uploaded = &mut upload => (uploaded.context("the upload task stopped")??, watch.await),
        job = &mut watch => (upload.await.context("the upload task stopped")??, job),
    };
    // The first watch may have ended on the job as a cut upload left it: follow the last run.
    let job = if resent { follow(&mut follower, &import_id, &bar).await? } else { job? };
    bar.finish_and_clear();
    report(&job, file)?;
    Ok(job.state() == ImportJobState::Succeeded)
}

/// `file-` and 16 hex digits of SHA-256 over the canonical path, the size and the time of change.
fn derived_id(file: &Path, meta: &std::fs::Metadata) -> anyhow::Result<String> {
    let path = std::fs::canonicalize(file)?;
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let mut hash = Sha256::new();
    hash.update(path.to_string_lossy().as_bytes());
    hash.update(meta.len().to_le_bytes());
    hash.update(modified.map(|d| d.as_nanos()).unwrap_or(0).to_le_bytes());
    let digest = hash.finalize();
    Ok(format!("file-{}", digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Line breaks in the file: the progress bar's length (a quoted field over lines counts more).
fn count_lines(file: &Path) -> anyhow::Result<u64> {
    let mut reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut buf = vec![0; 1 << 20];
    let mut lines = 0;
    loop {
        let read = reader.read(&mut buf)?;
        if read == 0 {
            return Ok(lines);
        }
        lines += buf[..read].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

fn progress_bar(rows: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows);
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {human_pos}/{human_len} rows  {per_sec}  eta {eta}")
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Sends the file, and sends it again from its start each time the server cuts the upload
/// (`CANCELLED` past its request timeout, 30 s, `UNAVAILABLE` when it stops) as long as the job
/// committed more rows since the last try: the server skips the lines already committed.
/// Whether the file was sent more than once.
async fn upload(mut client: Client, file: PathBuf, import_id: String) -> anyhow::Result<bool> {
    let mut committed = None;
    loop {
        let status = match send(&mut client, &file, &import_id).await? {
            Ok(()) => return Ok(committed.is_some()),
            Err(status) => status,
        };
        if !matches!(status.code(), tonic::Code::Cancelled | tonic::Code::Unavailable) {
            return Err(failed("import refused", status));
        }
        let job = client.get_import_job(GetImportJobRequest { id: import_id.clone() }).await;
        let now = job.ok().map(|job| job.into_inner().committed_line);
        if now.is_none() || now == committed {
            return Err(failed("import refused", status));
        }
        committed = now;
    }
}

/// One upload of the file: the id first, then chunks, each read when the upload is ready for it
/// (the upload goes at the server's pace, and stops reading as soon as the server answers).
async fn send(
    client: &mut Client,
    file: &Path,
    import_id: &str,
) -> anyhow::Result<Result<(), tonic::Status>> {
    let input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let first = ImportSerialsRequest { import_id: import_id.to_owned(), csv_chunk: Vec::new() };
    let chunks = futures::stream::unfold(Some(input), |input| async move {
        let mut input = input?;
        let read = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0; CHUNK];
            let read = input.read(&mut chunk);
            read.map(|n| {
                chunk.truncate(n);
                (input, chunk)
            })
        })
        .await;
        match read {
            Ok(Ok((input, chunk))) if !chunk.is_empty() => {
                Some((ImportSerialsRequest { import_id: String::new(), csv_chunk: chunk }, Some(input)))
            }
            // The end of the file, or a read error: the upload ends there and the job says
            // where (a cut row is refused with its line).
            _ => None,
        }
    });
    let messages = futures::stream::iter([first]).chain(chunks);
    Ok(client.import_serials(messages).await.map(drop))
}

/// Follows the job until it stops, moving the bar. The job may not exist for a moment while
/// the header is sent.
async fn follow(client: &mut Client, import_id: &str, bar: &ProgressBar) -> anyhow::Result<ImportJob> {
    let mut stream = loop {
        match client.watch_import_job(WatchImportJobRequest { id: import_id.to_owned() }).await {
            Ok(stream) => break stream.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => return Err(failed("cannot follow the import", status)),
        }
    };
    let mut last = None;
    while let Some(job) = stream.message().await.map_err(|s| failed("cannot follow the import", s))? {
        bar.set_position(job.rows_read as u64);
        last = Some(job);
    }
    last.ok_or_else(|| anyhow::anyhow!("the import job vanished"))
}

/// Prints the summary and writes the failed rows the server kept.
fn report(job: &ImportJob, file: &Path) -> anyhow::Result<()> {
    let state = job.state().as_str_name().trim_start_matches("IMPORT_JOB_STATE_").to_lowercase();
    println!(
        "import {}: {state}: {} rows read, {} created, {} failed ({:.0} rows/s)",
        job.id, job.rows_read, job.rows_created, job.rows_failed, job.rows_per_second
    );
    if !job.failure_reason.is_empty() {
        println!("stopped: {}", job.failure_reason);
    }
    if job.rows_failed > 0 {
        let out = failed_path(file);
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(&out).with_context(|| format!("cannot write {}", out.display()))?,
        );
        writeln!(w, "line,serialNumber,reason,message")?;
        for error in &job.errors {
            writeln!(
                w,
                "{},{},{},{}",
                error.line,
                quote(&error.serial_number),
                error.reason,
                quote(&error.message)
            )?;
        }
        w.flush()?;
        let kept = if (job.errors.len() as i64) < job.rows_failed {
            " (the first ones the server kept)"
        } else {
            ""
        };
        println!("failed rows{kept}: {}", out.display());
    }
    Ok(())
}

/// `FILE.failed.csv` next to `FILE.csv`.
pub fn failed_path(file: &Path) -> PathBuf {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    file.with_file_name(format!("{stem}.failed.csv"))
}

/// A CSV field, quoted when it must be.
pub fn quote(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
