//! The bulk insert of serials, for `BatchCreateSerials` ([`super::create`]) and for each batch
//! of an import: set-based, so 10,000 serials are a handful of statements on either backend.
//! Serials that exist already are skipped and reported back as not inserted. PostgreSQL COPYs
//! the rows ([`copy`]) and, if one exists, inserts around the conflicts with one
//! `INSERT … SELECT FROM UNNEST … ON CONFLICT DO NOTHING`; SQLite binds them to multi-row
//! `VALUES` ([`sqlite`]).

mod copy;
mod sqlite;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use crate::domain::{Ctx, NewSerial, ValidityWindow};
use crate::store::{Tx, errors::is_existing_serial, micros};

/// The serials of a batch that do not exist yet, each its own `created` event (`created_by` and
/// `create_time`), from one typed array per column; returns how many were inserted and, only
/// when some already existed, the keys inserted (`$12` is the batch's size, `$13` the import
/// job creating them, if any).
const INSERT_POSTGRES: &str = "WITH inserted AS (\
     INSERT INTO serials (org_id, serial_number, serial_key, product_sku, warranty_plan_id, \
     valid_from, valid_until, register_until, customer_tags, create_time, update_time, created_by, import_job) \
     SELECT $1, x.n, x.k, x.p, x.w, x.f, x.u, x.r, x.t, $2, $2, $3, $13 \
     FROM UNNEST(CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[]), CAST($7 AS TEXT[]), \
     CAST($8 AS BIGINT[]), CAST($9 AS BIGINT[]), CAST($10 AS BIGINT[]), CAST($11 AS TEXT[])) \
     AS x(n, k, p, w, f, u, r, t) \
     ON CONFLICT (org_id, serial_key) DO NOTHING RETURNING serial_key) \
     SELECT count(*), CASE WHEN count(*) < $12 THEN array_agg(serial_key) END FROM inserted";

/// A serial to insert, with the warranty plan it gets.
pub(crate) struct Row<'a> {
    pub index: usize,
    pub serial: &'a NewSerial,
    pub plan: Option<&'a str>,
}

/// What each backend's insert takes: the rows, their customer tags as JSON text, who creates
/// them when, and the import job creating them, if any.
#[derive(Clone, Copy)]
struct Batch<'a> {
    ctx: &'a Ctx<'a>,
    rows: &'a [Row<'a>],
    tags: &'a [String],
    import_job: Option<&'a str>,
}

/// Which of the rows given to [`insert`] it inserted: the others already existed.
pub(crate) enum Inserted {
    All,
    Only(HashSet<String>),
}

impl Inserted {
    pub(crate) fn contains(&self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(keys) => keys.contains(key),
        }
    }
}

fn encode_error(err: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(err))
}

/// Inserts the rows that do not exist yet, with a `created` event for each. `import_job` is the
/// import job creating them.
pub(crate) async fn insert(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    rows: &[Row<'_>],
    import_job: Option<&str>,
) -> Result<Inserted, sqlx::Error> {
    let now = micros(ctx.now);
    let tags = rows
        .iter()
        .map(|row| serde_json::to_string(row.serial.customer_tags.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(encode_error)?;
    let tx = match tx {
        Tx::Postgres(tx) => tx,
        Tx::Sqlite(tx) => return sqlite::insert(tx, Batch { ctx, rows, tags: &tags, import_job }).await,
    };
    // Most batches are all new: COPY them. A batch that meets an existing serial rolls back to
    // the savepoint and inserts around the conflicts.
    sqlx::query("SAVEPOINT new_serials").execute(&mut **tx).await?;
    match copy::insert(tx, Batch { ctx, rows, tags: &tags, import_job }).await {
        Ok(()) => return Ok(Inserted::All),
        Err(err) if is_existing_serial(&err) => {
            sqlx::query("ROLLBACK TO SAVEPOINT new_serials").execute(&mut **tx).await?;
        }
        Err(err) => return Err(err),
    }
    let window = |time: fn(&ValidityWindow) -> Option<DateTime<Utc>>| -> Vec<Option<i64>> {
        rows.iter().map(|row| time(&row.serial.window).map(micros)).collect()
    };
    let numbers: Vec<&str> = rows.iter().map(|row| row.serial.number.as_str()).collect();
    let keys: Vec<&str> = rows.iter().map(|row| row.serial.number.key()).collect();
    let skus: Vec<Option<&str>> =
        rows.iter().map(|row| row.serial.product_sku.as_ref().map(|s| s.as_str())).collect();
    let plans: Vec<Option<&str>> = rows.iter().map(|row| row.plan).collect();
    let (valid_from, valid_until, register_until) =
        (window(|w| w.valid_from), window(|w| w.valid_until), window(|w| w.register_until));
    let size = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let answer = sqlx::query(INSERT_POSTGRES)
        .bind(ctx.org)
        .bind(now)
        .bind(ctx.actor)
        .bind(&numbers)
        .bind(&keys)
        .bind(&skus)
        .bind(&plans)
        .bind(&valid_from)
        .bind(&valid_until)
        .bind(&register_until)
        .bind(&tags)
        .bind(size)
        .bind(import_job)
        .fetch_one(&mut **tx)
        .await?;
    let (count, inserted): (i64, Option<Vec<String>>) = (answer.try_get(0)?, answer.try_get(1)?);
    Ok(if count as usize == rows.len() {
        Inserted::All
    } else {
        Inserted::Only(inserted.unwrap_or_default().into_iter().collect())
    })
}
