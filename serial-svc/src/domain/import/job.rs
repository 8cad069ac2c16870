//! An import job: its state machine, its progress, and the batches that move it.

use chrono::{DateTime, Duration, Utc};

use super::row::RowError;
use crate::domain::{IdentifierError, NewSerial, StoreError, parse_identifier};

/// Most failed rows kept with a job (every failed row is counted).
pub const MAX_KEPT_ERRORS: u64 = 1_000;
/// A running job's runner writes at least this often (a batch or a heartbeat).
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);
/// A running job whose runner has not written for this long has lost it (a restart, a
/// database outage): it is reported FAILED, and an upload with its id resumes it.
pub fn stale_after() -> Duration {
    Duration::seconds(30)
}

/// The client-chosen id of a job: the identifier alphabet of serial numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportId(String);

impl ImportId {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        parse_identifier(raw).map(|id| Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// Whether an upload with the job's id picks it up again.
    pub fn resumable(self) -> bool {
        matches!(self, Self::Running | Self::Failed)
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportJob {
    pub id: String,
    pub state: JobState,
    pub rows_read: u64,
    pub rows_created: u64,
    pub rows_failed: u64,
    /// The first [`MAX_KEPT_ERRORS`] failed rows, in line order (empty in lists).
    pub errors: Vec<RowError>,
    pub failure_reason: Option<String>,
    pub failure_line: u64,
    /// Every row on a line up to this one is committed (created or failed).
    pub committed_line: u64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    /// When the runner last wrote.
    pub heartbeat_time: DateTime<Utc>,
    /// When the current run started, and the rows read before it.
    pub run_start_time: DateTime<Utc>,
    pub run_start_rows: u64,
}

impl ImportJob {
    /// The job as a reader at `now` should see it: a running job whose runner went silent is
    /// FAILED (it is resumed by uploading the file again).
    pub fn seen_at(mut self, now: DateTime<Utc>) -> Self {
        if self.state == JobState::Running && now - self.heartbeat_time > stale_after() {
            self.state = JobState::Failed;
            self.failure_reason = Some(format!(
                "the import stopped after line {} (its server went away): upload the file again with the same import_id to resume",
                self.committed_line
            ));
        }
        self
    }

    /// Data rows per second of the current run.
    pub fn rows_per_second(&self) -> f64 {
        let seconds = (self.update_time - self.run_start_time).num_microseconds().unwrap_or(0) as f64 / 1e6;
        let rows = self.rows_read.saturating_sub(self.run_start_rows) as f64;
        if seconds > 0.0 { rows / seconds } else { 0.0 }
    }
}

/// Rows read from the file, committed together with the job's progress.
#[derive(Debug, Default)]
pub struct ImportBatch {
    /// Valid rows, with their line.
    pub rows: Vec<(u64, NewSerial)>,
    /// Rows that failed to parse.
    pub failed: Vec<RowError>,
    /// Data rows in the batch (valid and failed).
    pub rows_read: u64,
    /// The last line the batch covers.
    pub last_line: u64,
}

impl ImportBatch {
    pub fn is_empty(&self) -> bool {
        self.rows_read == 0
    }

    /// Orders the valid rows by serial key, then line: the order the store inserts them in.
    /// Done by the reader, so that it is off the path of the batches' commits.
    pub fn sort(&mut self) {
        self.rows.sort_unstable_by(|(la, a), (lb, b)| a.number.key().cmp(b.number.key()).then(la.cmp(lb)));
    }
}

/// How a run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The whole file was read.
    Complete,
    /// The file cannot be read on from `line` (bad quoting, invalid UTF-8, a line too long).
    Broken { reason: String, line: u64 },
    /// The upload stopped before the end of the file.
    Interrupted,
}

/// What an upload with a job's id finds.
#[derive(Debug)]
pub enum Started {
    /// A new job, or one picked up again: rows up to `committed_line` are skipped.
    Run(ImportJob),
    /// The job is over (succeeded or cancelled): nothing is read.
    Over(ImportJob),
    /// The job was started with another header: another file.
    HeaderMismatch { stored: String },
}

/// Errors of the import store operations.
#[derive(Debug, thiserror::Error)]
pub enum ImportStoreError {
    #[error("the job is no longer this runner's (cancelled, or taken over by a newer upload)")]
    Lost,
    /// Nothing was written (the transaction rolled back).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The commit failed: whether it took effect is not known here (the job row knows).
    #[error("the commit failed: {0}")]
    CommitUnknown(StoreError),
}

/// `CancelImportJob`.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("import job not found")]
    NotFound,
    #[error("the import job already succeeded")]
    AlreadySucceeded,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `WatchImportJob`.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("import job not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}
