//! `import_jobs` and `import_job_errors`: starting or taking over a job, reading, listing,
//! cancelling, and the runner's heartbeat and end. The commit of a batch of rows is in
//! [`commit`].

mod commit;

use chrono::{DateTime, Utc};
use futures::TryFutureExt as _;

pub use commit::BatchCommitted;

use super::{Store, micros, on_reader, on_tx, time};
use crate::domain::import::{
    CancelError, ImportJob, ImportStoreError, JobState, RowError, RowReason, Started,
};
use crate::domain::{Ctx, StoreError};

const INSERT: &str = "INSERT INTO import_jobs (org_id, id, header, state, owner, create_time, update_time, \
     heartbeat_time, run_start_time) VALUES ($1, $2, $3, 'running', $4, $5, $5, $5, $5) \
     ON CONFLICT (org_id, id) DO NOTHING";
const LOCK_POSTGRES: &str = "SELECT id, header, state, owner, rows_read, rows_created, rows_failed, committed_line, \
     failure_reason, failure_line, create_time, update_time, heartbeat_time, run_start_time, run_start_rows \
     FROM import_jobs WHERE org_id = $1 AND id = $2 FOR UPDATE";
const GET: &str = "SELECT id, header, state, owner, rows_read, rows_created, rows_failed, committed_line, \
     failure_reason, failure_line, create_time, update_time, heartbeat_time, run_start_time, run_start_rows \
     FROM import_jobs WHERE org_id = $1 AND id = $2";
const TAKE_OVER: &str = "UPDATE import_jobs SET state = 'running', owner = $3, failure_reason = NULL, \
     failure_line = 0, update_time = $4, heartbeat_time = $4, run_start_time = $4, run_start_rows = rows_read \
     WHERE org_id = $1 AND id = $2";
const ERRORS: &str = "SELECT line, serial_number, reason, message FROM import_job_errors \
     WHERE org_id = $1 AND job_id = $2 ORDER BY line";
const LIST: &str = "SELECT id, header, state, owner, rows_read, rows_created, rows_failed, committed_line, \
     failure_reason, failure_line, create_time, update_time, heartbeat_time, run_start_time, run_start_rows \
     FROM import_jobs WHERE org_id = $1 AND (create_time < $2 OR (create_time = $2 AND id < $3)) \
     ORDER BY create_time DESC, id DESC LIMIT $4";
const HEARTBEAT: &str = "UPDATE import_jobs SET heartbeat_time = $4 WHERE org_id = $1 AND id = $2 AND owner = $3 AND state = 'running'";
const FINISH: &str = "UPDATE import_jobs SET state = $4, failure_reason = $5, failure_line = $6, \
     update_time = $7, heartbeat_time = $7 WHERE org_id = $1 AND id = $2 AND owner = $3 AND state = 'running'";
const CANCEL: &str = "UPDATE import_jobs SET state = 'cancelled', update_time = $3, heartbeat_time = $3 \
     WHERE org_id = $1 AND id = $2 AND state IN ('running', 'failed')";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    header: String,
    state: String,
    #[allow(dead_code)]
    owner: String,
    rows_read: i64,
    rows_created: i64,
    rows_failed: i64,
    committed_line: i64,
    failure_reason: Option<String>,
    failure_line: i64,
    create_time: i64,
    update_time: i64,
    heartbeat_time: i64,
    run_start_time: i64,
    run_start_rows: i64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl JobRow {
    fn into_domain(self) -> Result<ImportJob, StoreError> {
        let state = JobState::parse(&self.state).ok_or_else(|| {
            StoreError::Corrupt(format!("import job {} in state {:?}", self.id, self.state))
        })?;
        Ok(ImportJob {
            id: self.id,
            state,
            rows_read: count(self.rows_read),
            rows_created: count(self.rows_created),
            rows_failed: count(self.rows_failed),
            errors: Vec::new(),
            failure_reason: self.failure_reason,
            failure_line: count(self.failure_line),
            committed_line: count(self.committed_line),
            create_time: time(self.create_time)?,
            update_time: time(self.update_time)?,
            heartbeat_time: time(self.heartbeat_time)?,
            run_start_time: time(self.run_start_time)?,
            run_start_rows: count(self.run_start_rows),
        })
    }
}

/// A kept error as stored: line, serial number, reason, message.
type ErrorRow = (i64, String, String, String);

fn row_error((line, serial_number, reason, message): ErrorRow) -> Result<RowError, StoreError> {
    let reason = RowReason::parse(&reason)
        .ok_or_else(|| StoreError::Corrupt(format!("import row error reason {reason:?}")))?;
    Ok(RowError { line: count(line), serial_number, reason, message })
}

impl Store {
    /// Starts job `id` for an upload with `header`, run by `owner`: a new job, or an unfinished
    /// one taken over (whoever ran it before stops at its next write).
    #[doc(alias = "ImportSerials")]
    pub async fn start_import(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        header: &str,
        owner: &str,
    ) -> Result<Started, StoreError> {
        let now = micros(ctx.now);
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, c => sqlx::query(INSERT).bind(ctx.org).bind(id).bind(header).bind(owner).bind(now).execute(c).map_ok(|r| r.rows_affected()))?;
        let sql = tx.pick(LOCK_POSTGRES, GET);
        let row: JobRow = on_tx!(&mut tx, c => sqlx::query_as(sql).bind(ctx.org).bind(id).fetch_one(c))?;
        if row.owner == owner {
            tx.commit().await?;
            return Ok(Started::Run(row.into_domain()?));
        }
        if row.header != header {
            return Ok(Started::HeaderMismatch { stored: row.header });
        }
        let job = row.into_domain()?;
        if !job.state.resumable() {
            return Ok(Started::Over(self.with_errors(ctx.org, job).await?));
        }
        on_tx!(&mut tx, c => sqlx::query(TAKE_OVER).bind(ctx.org).bind(id).bind(owner).bind(now).execute(c).map_ok(|r| r.rows_affected()))?;
        tx.commit().await?;
        let job = ImportJob {
            state: JobState::Running,
            failure_reason: None,
            failure_line: 0,
            update_time: ctx.now,
            heartbeat_time: ctx.now,
            run_start_time: ctx.now,
            run_start_rows: job.rows_read,
            ..job
        };
        Ok(Started::Run(job))
    }

    /// Job `id` of `org` with its kept errors.
    #[doc(alias = "GetImportJob")]
    pub async fn get_import(&self, org: &str, id: &str) -> Result<Option<ImportJob>, StoreError> {
        let row: Option<JobRow> =
            on_reader!(&self.db, c => sqlx::query_as(GET).bind(org).bind(id).fetch_optional(c))?;
        match row {
            Some(row) => Ok(Some(self.with_errors(org, row.into_domain()?).await?)),
            None => Ok(None),
        }
    }

    /// Job `id` of `org` without its errors (for following its progress).
    pub async fn get_import_progress(&self, org: &str, id: &str) -> Result<Option<ImportJob>, StoreError> {
        let row: Option<JobRow> =
            on_reader!(&self.db, c => sqlx::query_as(GET).bind(org).bind(id).fetch_optional(c))?;
        row.map(JobRow::into_domain).transpose()
    }

    async fn with_errors(&self, org: &str, mut job: ImportJob) -> Result<ImportJob, StoreError> {
        let rows: Vec<ErrorRow> =
            on_reader!(&self.db, c => sqlx::query_as(ERRORS).bind(org).bind(&job.id).fetch_all(c))?;
        job.errors = rows.into_iter().map(row_error).collect::<Result<_, _>>()?;
        Ok(job)
    }

    /// The org's jobs newest first, after the cursor `(create_time, id)`, without their errors.
    #[doc(alias = "ListImportJobs")]
    pub async fn list_imports(
        &self,
        org: &str,
        after: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<ImportJob>, StoreError> {
        let (before_time, before_id) = after.map(|(t, id)| (micros(t), id)).unwrap_or((i64::MAX, ""));
        // With no cursor every id is below the first page's bound: ids are never empty, and
        // `create_time < i64::MAX` holds for all rows.
        let rows: Vec<JobRow> = on_reader!(&self.db, c => sqlx::query_as(LIST)
            .bind(org)
            .bind(before_time)
            .bind(before_id)
            .bind(i64::from(limit))
            .fetch_all(c))?;
        rows.into_iter().map(JobRow::into_domain).collect()
    }

    /// Marks the runner alive.
    pub async fn import_heartbeat(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        owner: &str,
    ) -> Result<(), ImportStoreError> {
        let mut tx = self.db.begin_write().await?;
        let done = on_tx!(&mut tx, c => sqlx::query(HEARTBEAT).bind(ctx.org).bind(id).bind(owner).bind(micros(ctx.now)).execute(c).map_ok(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(ImportStoreError::Lost);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends the run: SUCCEEDED, or FAILED with the reason and the line at fault.
    pub async fn finish_import(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        owner: &str,
        state: JobState,
        failure: Option<(&str, u64)>,
    ) -> Result<(), ImportStoreError> {
        let (reason, line) = failure.map(|(r, l)| (Some(r), l)).unwrap_or((None, 0));
        let mut tx = self.db.begin_write().await?;
        let done = on_tx!(&mut tx, c => sqlx::query(FINISH)
            .bind(ctx.org)
            .bind(id)
            .bind(owner)
            .bind(state.as_str())
            .bind(reason)
            .bind(i64::try_from(line).unwrap_or(i64::MAX))
            .bind(micros(ctx.now))
            .execute(c).map_ok(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(ImportStoreError::Lost);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Cancels a running or failed job: its runner stops at its next batch.
    #[doc(alias = "CancelImportJob")]
    pub async fn cancel_import(&self, ctx: &Ctx<'_>, id: &str) -> Result<ImportJob, CancelError> {
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, c => sqlx::query(CANCEL).bind(ctx.org).bind(id).bind(micros(ctx.now)).execute(c).map_ok(|r| r.rows_affected()))?;
        tx.commit().await?;
        let job = self.get_import(ctx.org, id).await?.ok_or(CancelError::NotFound)?;
        if job.state == JobState::Succeeded {
            return Err(CancelError::AlreadySucceeded);
        }
        Ok(job)
    }
}
