//! Bulk import: `ImportSerials` (a client stream of CSV chunks), `GetImportJob`,
//! `ListImportJobs`, `WatchImportJob` (a server stream) and `CancelImportJob`. The upload's steps
//! are in [`crate::ops::import`].

use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use regserial::serial::v1 as pb;
use serde::Serialize;
use shared::status;
use tonic::{Status, Streaming};

use super::fields::{field, invalid_field};
use super::paging::{DEFAULT_PAGE_SIZE, cursor, fetch_limit, next_page, page_size};
use super::{Api, Caller, DOMAIN, errors};
use crate::domain::import::{CancelError, ImportId, ImportJob, JobState, RowError};
use crate::ops::import::{Importer, UploadBroken, UploadError, upload};

const JOB_TYPE: &str = "regserial.serial.v1.ImportJob";
/// How often WatchImportJob reads the job (from the database: any replica may run it).
const WATCH_POLL: Duration = Duration::from_millis(200);

pub type ImportJobStream = Pin<Box<dyn Stream<Item = Result<pb::ImportJob, Status>> + Send + 'static>>;

/// What a `ListImportJobs` page token is bound to.
#[derive(Serialize)]
struct JobsQuery<'a> {
    method: &'static str,
    org: &'a str,
}

fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: time.timestamp(), nanos: time.timestamp_subsec_nanos() as i32 }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn state(state: JobState) -> pb::ImportJobState {
    match state {
        JobState::Running => pb::ImportJobState::Running,
        JobState::Succeeded => pb::ImportJobState::Succeeded,
        JobState::Failed => pb::ImportJobState::Failed,
        JobState::Cancelled => pb::ImportJobState::Cancelled,
    }
}

fn row_error(error: RowError) -> pb::ImportRowError {
    pb::ImportRowError {
        line: count(error.line),
        serial_number: error.serial_number,
        reason: error.reason.as_str().to_owned(),
        message: error.message,
    }
}

pub fn job(job: ImportJob) -> pb::ImportJob {
    let rows_per_second = job.rows_per_second();
    pb::ImportJob {
        id: job.id,
        state: state(job.state).into(),
        rows_read: count(job.rows_read),
        rows_created: count(job.rows_created),
        rows_failed: count(job.rows_failed),
        errors: job.errors.into_iter().map(row_error).collect(),
        create_time: Some(timestamp(job.create_time)),
        update_time: Some(timestamp(job.update_time)),
        failure_reason: job.failure_reason.unwrap_or_default(),
        failure_line: count(job.failure_line),
        committed_line: count(job.committed_line),
        rows_per_second,
    }
}

fn job_not_found(id: &str) -> Status {
    status::not_found(DOMAIN, "IMPORT_JOB_NOT_FOUND", JOB_TYPE, id)
}

fn upload_error(err: UploadError) -> Status {
    match err {
        UploadError::Empty => invalid_field("csv_chunk", "the file is empty: a header is required"),
        UploadError::HeaderUnreadable(err) => invalid_field("header", err.to_string()),
        UploadError::Header(err) => invalid_field("header", err.to_string()),
        err @ UploadError::HeaderMismatch { .. } => invalid_field("header", err.to_string()),
        UploadError::Broken => Status::cancelled("the upload broke"),
        UploadError::Store(err) => errors::store(err),
    }
}

impl Api {
    pub async fn inner_import_serials(
        &self,
        caller: &Caller,
        mut request: Streaming<pb::ImportSerialsRequest>,
    ) -> Result<pb::ImportJob, Status> {
        let first = match request.message().await {
            Ok(Some(first)) => first,
            Ok(None) => return Err(invalid_field("import_id", "is required in the first message")),
            Err(status) => return Err(status),
        };
        let id = field("import_id", ImportId::parse(&first.import_id))?;
        let chunks = futures::stream::once(async move { Ok(first.csv_chunk) })
            .chain(request.map(|message| message.map(|m| m.csv_chunk).map_err(|_| UploadBroken)));
        let importer = Importer { org: caller.org().to_owned(), actor: caller.principal.subject.clone() };
        let answer = upload(self.store.clone(), self.clock.clone(), importer, id, Box::pin(chunks)).await;
        answer.map(job).map_err(upload_error)
    }

    pub async fn inner_get_import_job(
        &self,
        caller: &Caller,
        request: pb::GetImportJobRequest,
    ) -> Result<pb::ImportJob, Status> {
        let id = field("id", ImportId::parse(&request.id))?;
        match self.store.get_import(caller.org(), id.as_str()).await.map_err(errors::store)? {
            Some(found) => Ok(job(found.seen_at(self.clock.now()))),
            None => Err(job_not_found(id.as_str())),
        }
    }

    pub async fn inner_list_import_jobs(
        &self,
        caller: &Caller,
        request: pb::ListImportJobsRequest,
    ) -> Result<pb::ListImportJobsResponse, Status> {
        let limit = page_size(request.page_size, DEFAULT_PAGE_SIZE)?;
        let query = JobsQuery { method: "ListImportJobs", org: caller.org() };
        let after: Option<(i64, String)> = cursor(&self.tokens, &request.page_token, &query)?;
        let after = after
            .map(|(micros, id)| DateTime::from_timestamp_micros(micros).map(|time| (time, id)))
            .map(|cursor| cursor.ok_or_else(|| invalid_field("page_token", "is not valid")))
            .transpose()?;
        let mut jobs = self
            .store
            .list_imports(
                caller.org(),
                after.as_ref().map(|(time, id)| (*time, id.as_str())),
                fetch_limit(limit),
            )
            .await
            .map_err(errors::store)?;
        let next_page_token = next_page(&self.tokens, &mut jobs, limit, &query, |j| {
            (j.create_time.timestamp_micros(), j.id.clone())
        });
        let now = self.clock.now();
        Ok(pb::ListImportJobsResponse {
            import_jobs: jobs.into_iter().map(|j| job(j.seen_at(now))).collect(),
            next_page_token,
        })
    }

    pub async fn inner_watch_import_job(
        &self,
        caller: &Caller,
        request: pb::WatchImportJobRequest,
    ) -> Result<ImportJobStream, Status> {
        let id = field("id", ImportId::parse(&request.id))?;
        let org = caller.org().to_owned();
        let first = self.store.get_import_progress(&org, id.as_str()).await.map_err(errors::store)?;
        if first.is_none() {
            return Err(job_not_found(id.as_str()));
        }
        let api = self.clone();
        let watch = Watch { api, org, id: id.as_str().to_owned(), last: None };
        Ok(Box::pin(futures::stream::unfold(Some(watch), |watch| async move {
            let mut watch = watch?;
            let (item, done) = watch.next().await;
            Some((item, if done { None } else { Some(watch) }))
        })))
    }

    pub async fn inner_cancel_import_job(
        &self,
        caller: &Caller,
        request: pb::CancelImportJobRequest,
    ) -> Result<pb::ImportJob, Status> {
        let id = field("id", ImportId::parse(&request.id))?;
        match self.store.cancel_import(&caller.ctx(), id.as_str()).await {
            Ok(cancelled) => Ok(job(cancelled.seen_at(caller.now))),
            Err(CancelError::NotFound) => Err(job_not_found(id.as_str())),
            Err(CancelError::AlreadySucceeded) => Err(status::failed_precondition(
                DOMAIN,
                "INVALID_STATE_TRANSITION",
                &format!("importJobs/{}", id.as_str()),
                "the import job already succeeded",
                &[("import_job", id.as_str())],
            )),
            Err(CancelError::Store(err)) => Err(errors::store(err)),
        }
    }
}

/// One WatchImportJob: the job each time it changes, until it stops.
struct Watch {
    api: Api,
    org: String,
    id: String,
    last: Option<(DateTime<Utc>, JobState)>,
}

impl Watch {
    /// The next change of the job, and whether the stream ends after it.
    async fn next(&mut self) -> (Result<pb::ImportJob, Status>, bool) {
        loop {
            let read = self.api.store.get_import_progress(&self.org, &self.id).await;
            let progress = match read {
                Ok(Some(progress)) => progress.seen_at(self.api.clock.now()),
                Ok(None) => return (Err(job_not_found(&self.id)), true),
                Err(err) => return (Err(errors::store(err)), true),
            };
            let seen = (progress.update_time, progress.state);
            if self.last != Some(seen) {
                self.last = Some(seen);
                if progress.state == JobState::Running {
                    return (Ok(job(progress)), false);
                }
                // The last message carries the kept errors.
                let full = match self.api.store.get_import(&self.org, &self.id).await {
                    Ok(Some(full)) => full.seen_at(self.api.clock.now()),
                    Ok(None) => return (Err(job_not_found(&self.id)), true),
                    Err(err) => return (Err(errors::store(err)), true),
                };
                return (Ok(job(full)), true);
            }
            tokio::time::sleep(WATCH_POLL).await;
        }
    }
}
