//! `ImportSerials`: an upload read as it arrives, its rows committed by a runner task in batches.
//!
//! The handler reads the chunks through [`CsvReader`], parses the header (refused up front when
//! bad), starts or takes over the job, and parses rows into batches of [`BATCH_ROWS`], skipping
//! the lines a previous run committed. Batches go to the runner through a channel of
//! [`QUEUED_BATCHES`]: when the database is slower than the upload, the handler waits on the
//! channel, stops reading the stream, and HTTP/2 flow control slows the client down, so memory
//! stays flat whatever the file's size.
//!
//! The runner ([`run`]) commits each batch with the job's progress in one transaction
//! ([`Store::commit_import_batch`]) and ends the job: SUCCEEDED at the end of the file, FAILED at
//! a line the reader refuses or when the upload stops early. The handler answers once the last
//! batch is queued; the runner finishes the queued batches on its own (WatchImportJob follows
//! it). Nothing in process is needed for correctness: a runner that dies leaves the job's rows
//! committed up to `committed_line`, and the next upload with the id takes the job over.

use std::collections::VecDeque;

use futures::{Stream, StreamExt};
use shared::clock::SharedClock;
use tokio::sync::mpsc;

use crate::domain::import::csv::{CsvError, CsvReader, Record};
use crate::domain::import::{
    Ending, HEARTBEAT, Header, HeaderError, ImportBatch, ImportId, ImportJob, ImportStoreError, JobState,
    Started,
};
use crate::domain::{Ctx, StoreError};
use crate::store::Store;

/// Rows per committed batch.
pub const BATCH_ROWS: u64 = 10_000;
/// Batches parsed ahead of the runner.
pub const QUEUED_BATCHES: usize = 2;
/// The counter of imported rows, labelled `outcome` (`created`, `failed`): moved by each
/// committed batch, so a row is counted once whatever the runs and tries it took.
pub const IMPORT_ROWS: &str = "serial_import_rows_total";
/// Tries of a batch whose transaction rolled back, and the first pause between them (doubling).
const COMMIT_ATTEMPTS: u32 = 5;
const COMMIT_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Who imports: the token's org and subject.
#[derive(Debug, Clone)]
pub struct Importer {
    pub org: String,
    pub actor: String,
}

/// The upload broke (the client went away or the transport failed).
#[derive(Debug, Clone, Copy)]
pub struct UploadBroken;

/// Why an upload is answered with an error.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is empty: no header")]
    Empty,
    #[error("the header cannot be read: {0}")]
    HeaderUnreadable(CsvError),
    #[error(transparent)]
    Header(HeaderError),
    #[error("the job was started with the header {stored:?}, not {sent:?}")]
    HeaderMismatch { stored: String, sent: String },
    #[error("the upload broke")]
    Broken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the runner is sent.
enum Message {
    Batch(ImportBatch),
    End(ImportBatch, Ending),
}

/// The next thing the upload holds.
enum Next {
    Record(Record),
    Unreadable(CsvError),
    Broken,
    End,
}

/// Records as the chunks arrive.
struct Source<S> {
    chunks: S,
    reader: CsvReader,
    ready: VecDeque<Record>,
    parsed: Vec<Record>,
    error: Option<CsvError>,
    ended: bool,
}

impl<S: Stream<Item = Result<Vec<u8>, UploadBroken>> + Unpin> Source<S> {
    fn new(chunks: S) -> Self {
        Self {
            chunks,
            reader: CsvReader::new(),
            ready: VecDeque::new(),
            parsed: Vec::new(),
            error: None,
            ended: false,
        }
    }

    async fn next(&mut self) -> Next {
        loop {
            if let Some(record) = self.ready.pop_front() {
                return Next::Record(record);
            }
            if let Some(err) = &self.error {
                return Next::Unreadable(err.clone());
            }
            if self.ended {
                return Next::End;
            }
            let read = match self.chunks.next().await {
                Some(Ok(chunk)) => self.reader.feed(&chunk, &mut self.parsed),
                Some(Err(UploadBroken)) => return Next::Broken,
                None => {
                    self.ended = true;
                    self.reader.finish(&mut self.parsed)
                }
            };
            self.error = read.err();
            self.ready.extend(self.parsed.drain(..));
        }
    }
}

/// Runs an upload of job `id`: see the module's documentation.
pub async fn upload<S>(
    store: Store,
    clock: SharedClock,
    importer: Importer,
    id: ImportId,
    chunks: S,
) -> Result<ImportJob, UploadError>
where
    S: Stream<Item = Result<Vec<u8>, UploadBroken>> + Unpin,
{
    let mut source = Source::new(chunks);
    let header = match source.next().await {
        Next::Record(record) => Header::parse(&record).map_err(UploadError::Header)?,
        Next::Unreadable(err) => return Err(UploadError::HeaderUnreadable(err)),
        Next::Broken => return Err(UploadError::Broken),
        Next::End => return Err(UploadError::Empty),
    };
    let owner = uuid::Uuid::new_v4().to_string();
    let now = clock.now();
    let ctx = Ctx { org: &importer.org, actor: &importer.actor, now };
    let sent = header.text();
    let job = match store.start_import(&ctx, id.as_str(), &sent, &owner).await? {
        Started::Run(job) => job,
        Started::Over(job) => return Ok(job.seen_at(now)),
        Started::HeaderMismatch { stored } => return Err(UploadError::HeaderMismatch { stored, sent }),
    };
    let skip_to = job.committed_line;
    tracing::info!(org = %importer.org, import_id = id.as_str(), resume_after_line = skip_to, "import started");
    let (queue, batches) = mpsc::channel(QUEUED_BATCHES);
    tokio::spawn(run(store.clone(), clock.clone(), importer.clone(), id.clone(), owner, batches));
    let mut batch = ImportBatch::default();
    let ending = loop {
        match source.next().await {
            Next::Record(record) if record.end_line <= skip_to => {}
            Next::Record(record) => {
                batch.rows_read += 1;
                batch.last_line = record.end_line;
                match header.parse_row(&record) {
                    Ok(serial) => batch.rows.push((record.line, serial)),
                    Err(error) => batch.failed.push(error),
                }
                if batch.rows_read >= BATCH_ROWS {
                    batch.sort();
                    if queue.send(Message::Batch(std::mem::take(&mut batch))).await.is_err() {
                        // The runner stopped (cancelled, taken over, or the database failed).
                        break None;
                    }
                }
            }
            Next::Unreadable(err) => {
                break Some(Ending::Broken { reason: err.to_string(), line: err.line() });
            }
            Next::Broken => break Some(Ending::Interrupted),
            Next::End => break Some(Ending::Complete),
        }
    };
    let broken = ending == Some(Ending::Interrupted);
    if let Some(ending) = ending {
        // An error here means the runner stopped: the job says why.
        let _ = queue.send(Message::End(batch, ending)).await;
    }
    drop(queue);
    if broken {
        return Err(UploadError::Broken);
    }
    let job = store.get_import(&importer.org, id.as_str()).await?;
    let job = job.ok_or_else(|| StoreError::Corrupt(format!("import job {} vanished", id.as_str())))?;
    Ok(job.seen_at(clock.now()))
}

/// The runner of one upload: commits what it is sent, then ends the job. Stops without a word
/// when the job is no longer its own (cancelled, or taken over by a newer upload).
async fn run(
    store: Store,
    clock: SharedClock,
    importer: Importer,
    id: ImportId,
    owner: String,
    mut batches: mpsc::Receiver<Message>,
) {
    let id = id.as_str();
    loop {
        let message = match tokio::time::timeout(HEARTBEAT, batches.recv()).await {
            Err(_) => {
                let ctx = Ctx { org: &importer.org, actor: &importer.actor, now: clock.now() };
                match store.import_heartbeat(&ctx, id, &owner).await {
                    Ok(()) => continue,
                    Err(ImportStoreError::Lost) => return,
                    Err(err) => {
                        tracing::warn!(import_id = id, error = %err, "cannot record an import heartbeat");
                        continue;
                    }
                }
            }
            // The handler went away without an end: the client dropped the upload.
            Ok(None) => Message::End(ImportBatch::default(), Ending::Interrupted),
            Ok(Some(message)) => message,
        };
        let (batch, ending) = match message {
            Message::Batch(batch) => (batch, None),
            Message::End(batch, ending) => (batch, Some(ending)),
        };
        let ctx = Ctx { org: &importer.org, actor: &importer.actor, now: clock.now() };
        if !batch.is_empty() && !commit(&store, &ctx, id, &owner, &batch).await {
            return;
        }
        let Some(ending) = ending else { continue };
        let (state, failure) = match &ending {
            Ending::Complete => (JobState::Succeeded, None),
            Ending::Broken { reason, line } => (JobState::Failed, Some((reason.clone(), *line))),
            Ending::Interrupted => {
                let reason = "the upload stopped before the end of the file: upload it again with the same import_id to resume";
                (JobState::Failed, Some((reason.to_owned(), 0)))
            }
        };
        let failure = failure.as_ref().map(|(reason, line)| (reason.as_str(), *line));
        match store.finish_import(&ctx, id, &owner, state, failure).await {
            Ok(()) => {
                tracing::info!(org = %importer.org, import_id = id, state = state.as_str(), "import ended")
            }
            Err(err) => tracing::warn!(import_id = id, error = %err, "cannot end the import job"),
        }
        return;
    }
}

/// Commits `batch`, again after a failure that rolled it back (a deadlock, a connection lost
/// before the commit); whether to go on.
async fn commit(store: &Store, ctx: &Ctx<'_>, id: &str, owner: &str, batch: &ImportBatch) -> bool {
    let mut pause = COMMIT_RETRY_PAUSE;
    for attempt in 1..=COMMIT_ATTEMPTS {
        match store.commit_import_batch(batch, ctx, id, owner).await {
            Ok(committed) => {
                metrics::counter!(IMPORT_ROWS, "outcome" => "created").increment(committed.created);
                metrics::counter!(IMPORT_ROWS, "outcome" => "failed").increment(committed.failed);
                return true;
            }
            Err(ImportStoreError::Lost) => {
                tracing::info!(import_id = id, "import stopped: cancelled or taken over");
                return false;
            }
            Err(ImportStoreError::Store(err)) if attempt < COMMIT_ATTEMPTS => {
                tracing::warn!(import_id = id, attempt, error = %err, "import batch rolled back, trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(err) => {
                // The job is left running and is reported FAILED once its heartbeat is stale;
                // its row says which lines are committed.
                tracing::warn!(import_id = id, error = %err, cause = ?err, "import batch not committed");
                return false;
            }
        }
    }
    false
}
