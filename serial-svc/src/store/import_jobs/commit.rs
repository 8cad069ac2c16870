//! One batch of an import, committed whole: its serials (through the insert of
//! `BatchCreateSerials`, [`crate::store::serials::insert`]), its failed rows, and the job's
//! progress, in one transaction that holds only if the runner still owns the running job. So the
//! job row always says exactly which rows are committed.

use std::collections::HashMap;

use futures::TryFutureExt as _;
use serde_json::json;

use crate::domain::import::{ImportBatch, ImportStoreError, MAX_KEPT_ERRORS, RowError, RowReason};
use crate::domain::{Ctx, ItemReason, NewSerial};
use crate::store::serials::insert::{Inserted, Row, insert};
use crate::store::{Store, Tx, catalog, micros, on_tx};

const PROGRESS: &str = "UPDATE import_jobs SET rows_read = rows_read + $4, rows_created = rows_created + $5, \
     rows_failed = rows_failed + $6, committed_line = $7, update_time = $8, heartbeat_time = $8 \
     WHERE org_id = $1 AND id = $2 AND owner = $3 AND state = 'running' RETURNING rows_failed";
/// A batch's first statement on PostgreSQL. Imports of one org write one batch at a time (an
/// advisory lock): two imports of overlapping serials then never wait on each other's serials
/// in the middle of a batch. And the next batch need not wait for this one to reach the disk
/// (`synchronous_commit` off for this transaction): its serials and the job's progress commit
/// together, so a crash loses both and the resumed job imports them again; the job's end
/// (`finish_import`) is flushed as usual, and with it the WAL of every batch before it.
const BATCH_START_POSTGRES: &str = "SELECT pg_advisory_xact_lock(hashtextextended('import ' || $1, 0)), \
     set_config('synchronous_commit', 'off', true)";
const KEPT_POSTGRES: &str = "INSERT INTO import_job_errors (org_id, job_id, line, serial_number, reason, message) \
     SELECT $1, $2, x.line, x.serial_number, x.reason, x.message \
     FROM jsonb_to_recordset(CAST($3 AS TEXT)::jsonb) AS x(line BIGINT, serial_number TEXT, reason TEXT, message TEXT) \
     ON CONFLICT DO NOTHING";
const KEPT_SQLITE: &str = "INSERT INTO import_job_errors (org_id, job_id, line, serial_number, reason, message) \
     SELECT $1, $2, json_extract(x.value, '$.line'), json_extract(x.value, '$.serial_number'), \
     json_extract(x.value, '$.reason'), json_extract(x.value, '$.message') \
     FROM json_each($3) AS x WHERE true ON CONFLICT DO NOTHING";
/// An array, not a JSON list: with `IN (SELECT … jsonb …)` PostgreSQL planned a nested loop
/// over the org's serials (30 s for 10,000 keys among 30,000 serials, measured); `= ANY` of an
/// array probes the unique index.
const OF_THIS_JOB_POSTGRES: &str = "SELECT serial_key FROM serials WHERE org_id = $1 AND import_job = $2 \
     AND serial_key = ANY(CAST($3 AS TEXT[]))";
const OF_THIS_JOB_SQLITE: &str = "SELECT serial_key FROM serials WHERE org_id = $1 AND import_job = $2 \
     AND serial_key IN (SELECT value FROM json_each($3))";

/// What a committed batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchCommitted {
    pub created: u64,
    pub failed: u64,
}

fn row_error(line: u64, serial: &str, reason: RowReason, message: String) -> RowError {
    RowError { line, serial_number: serial.to_owned(), reason, message }
}

fn catalog_reason(reason: ItemReason) -> RowReason {
    match reason {
        ItemReason::UnknownWarrantyPlan => RowReason::UnknownWarrantyPlan,
        _ => RowReason::UnknownProductSku,
    }
}

impl Store {
    /// Commits `batch` of job `id` for runner `owner`. [`ImportStoreError::Lost`] (nothing
    /// written) when the job was cancelled or taken over meanwhile; [`ImportStoreError::Store`]
    /// when the transaction failed before its commit and was rolled back (the batch may be sent
    /// again); [`ImportStoreError::CommitUnknown`] when the commit itself failed.
    #[doc(alias = "ImportSerials")]
    pub async fn commit_import_batch(
        &self,
        batch: &ImportBatch,
        ctx: &Ctx<'_>,
        id: &str,
        owner: &str,
    ) -> Result<BatchCommitted, ImportStoreError> {
        let mut tx = self.db.begin_write().await?;
        match write_batch(&mut tx, ctx, id, owner, batch).await {
            Ok(outcome) => {
                tx.commit().await.map_err(|err| ImportStoreError::CommitUnknown(err.into()))?;
                Ok(outcome)
            }
            Err(err) => {
                // Released now rather than when the connection is next used: another import
                // may be waiting on this batch's serials.
                let _ = match tx {
                    Tx::Postgres(tx) => tx.rollback().await,
                    Tx::Sqlite(tx) => tx.rollback().await,
                };
                Err(err)
            }
        }
    }
}

/// The statements of [`Store::commit_import_batch`], in its transaction.
async fn write_batch(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    id: &str,
    owner: &str,
    batch: &ImportBatch,
) -> Result<BatchCommitted, ImportStoreError> {
    let ImportBatch { rows, failed, rows_read, last_line } = batch;
    let (rows_read, last_line) = (*rows_read, *last_line);
    let mut failed = failed.clone();
    if let Tx::Postgres(tx) = tx {
        sqlx::query(BATCH_START_POSTGRES).bind(ctx.org).execute(&mut **tx).await?;
    }
    // Lines as indexes; one global key order so overlapping imports cannot deadlock (the
    // reader sorts full batches already, see [`ImportBatch::sort`], so this is mostly one pass).
    let mut items: Vec<(usize, &NewSerial)> =
        rows.iter().map(|(line, serial)| (usize::try_from(*line).unwrap_or(usize::MAX), serial)).collect();
    items.sort_unstable_by(|(la, a), (lb, b)| a.number.key().cmp(b.number.key()).then(la.cmp(lb)));
    let refs = catalog::refs(tx, ctx.org, items.iter().map(|(_, serial)| *serial)).await?;
    let mut to_insert = Vec::with_capacity(items.len());
    // Later rows of the batch with the serial of an earlier one: (line, serial, first's key).
    let mut repeats = Vec::new();
    let mut previous: Option<&str> = None;
    for &(line, serial) in &items {
        if previous == Some(serial.number.key()) {
            repeats.push((line as u64, serial));
            continue;
        }
        match refs.resolve(line, serial) {
            Ok(plan) => {
                previous = Some(serial.number.key());
                to_insert.push(Row { index: line, serial, plan });
            }
            Err(error) => {
                let reason = catalog_reason(error.reason);
                let column =
                    if reason == RowReason::UnknownWarrantyPlan { "warrantyId" } else { "productId" };
                let message = format!("{column}: not in the catalog");
                failed.push(row_error(line as u64, serial.number.as_str(), reason, message));
            }
        }
    }
    let inserted =
        if to_insert.is_empty() { Inserted::All } else { insert(tx, ctx, &to_insert, Some(id)).await? };
    let refused: Vec<&str> =
        to_insert.iter().map(|row| row.serial.number.key()).filter(|key| !inserted.contains(key)).collect();
    let ours = if refused.is_empty() { Vec::new() } else { of_this_job(tx, ctx.org, id, &refused).await? };
    // The reason of each refused or repeated key: taken by an earlier row of this file, or
    // by something else.
    let mut verdict: HashMap<&str, RowReason> = HashMap::new();
    for key in &refused {
        let reason =
            if ours.iter().any(|k| k == key) { RowReason::DuplicateInFile } else { RowReason::AlreadyExists };
        verdict.insert(key, reason);
    }
    for row in &to_insert {
        if let Some(reason) = verdict.get(row.serial.number.key()) {
            failed.push(refusal(row.index as u64, row.serial.number.as_str(), *reason));
        }
    }
    for (line, serial) in repeats {
        let reason = verdict.get(serial.number.key()).copied().unwrap_or(RowReason::DuplicateInFile);
        failed.push(refusal(line, serial.number.as_str(), reason));
    }
    failed.sort_unstable_by_key(|error| error.line);
    let outcome =
        BatchCommitted { created: (to_insert.len() - refused.len()) as u64, failed: failed.len() as u64 };
    let failed_before = progress(tx, ctx, id, owner, rows_read, outcome, last_line).await?;
    let room = MAX_KEPT_ERRORS.saturating_sub(failed_before) as usize;
    if room > 0 && !failed.is_empty() {
        failed.truncate(room);
        keep_errors(tx, ctx.org, id, &failed).await?;
    }
    Ok(outcome)
}

fn refusal(line: u64, serial: &str, reason: RowReason) -> RowError {
    let message = match reason {
        RowReason::DuplicateInFile => "serialNumber: an earlier row of the file has this serial".to_owned(),
        _ => "serialNumber: the serial already exists".to_owned(),
    };
    row_error(line, serial, reason, message)
}

/// Which of `keys` this job created (in an earlier batch or run).
async fn of_this_job(tx: &mut Tx, org: &str, id: &str, keys: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    match tx {
        Tx::Postgres(tx) => {
            sqlx::query_scalar(OF_THIS_JOB_POSTGRES).bind(org).bind(id).bind(keys).fetch_all(&mut **tx).await
        }
        Tx::Sqlite(tx) => {
            let list = json!(keys).to_string();
            sqlx::query_scalar(OF_THIS_JOB_SQLITE).bind(org).bind(id).bind(&list).fetch_all(&mut **tx).await
        }
    }
}

/// Moves the job's counters and committed line if `owner` still runs it; returns the failed
/// rows counted before this batch.
async fn progress(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    id: &str,
    owner: &str,
    rows_read: u64,
    outcome: BatchCommitted,
    last_line: u64,
) -> Result<u64, ImportStoreError> {
    let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let failed_now: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(PROGRESS)
        .bind(ctx.org)
        .bind(id)
        .bind(owner)
        .bind(big(rows_read))
        .bind(big(outcome.created))
        .bind(big(outcome.failed))
        .bind(big(last_line))
        .bind(micros(ctx.now))
        .fetch_optional(c))?;
    let failed_now = failed_now.ok_or(ImportStoreError::Lost)?;
    Ok(u64::try_from(failed_now).unwrap_or(0).saturating_sub(outcome.failed))
}

async fn keep_errors(tx: &mut Tx, org: &str, id: &str, errors: &[RowError]) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = errors
        .iter()
        .map(|e| json!({"line": e.line, "serial_number": e.serial_number, "reason": e.reason.as_str(), "message": e.message}))
        .collect();
    let list = serde_json::Value::Array(rows).to_string();
    let sql = tx.pick(KEPT_POSTGRES, KEPT_SQLITE);
    on_tx!(tx, c => sqlx::query(sql).bind(org).bind(id).bind(&list).execute(c).map_ok(|r| r.rows_affected()))?;
    Ok(())
}
