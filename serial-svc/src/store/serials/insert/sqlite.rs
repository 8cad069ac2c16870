//! SQLite's bulk insert of serials (see [`super`]).
//!
//! The rows are bound as parameters of multi-row `INSERT … VALUES` statements: binding costs
//! less than passing them as one JSON text that SQLite reads back field by field (a sixth of
//! serial-svc's CPU in a batch, profiled). Chunks have power-of-two sizes up to [`MAX_CHUNK`],
//! so a batch of any size runs a few of at most 11 distinct statements, each prepared once per
//! connection and then taken from sqlx's statement cache.
//!
//! SQLite's one writer runs a batch alone, so the serials inserted are exactly those with an id
//! above the largest before the insert (an `INTEGER PRIMARY KEY` takes max + 1): the inserted
//! keys are read from that range rather than returned row by row, each row of a result costing
//! a hand-off from sqlx's connection thread.

use std::sync::{Arc, LazyLock};

use sqlx::{AssertSqlSafe, SqliteConnection};

use super::{Batch, Inserted};
use crate::store::micros;

/// Most rows per statement: 13 parameters each, well under SQLite's 32,766.
const MAX_CHUNK: usize = 1024;

const MAX_ID: &str = "SELECT COALESCE(MAX(id), 0) FROM serials";
/// Serial keys never hold whitespace, so a space separates them.
const INSERTED_KEYS: &str = "SELECT group_concat(serial_key, ' ') FROM serials WHERE id > $1";

/// The insert of 1, 2, 4 … [`MAX_CHUNK`] rows, by log2 of the row count.
static INSERTS: LazyLock<Vec<Arc<str>>> =
    LazyLock::new(|| (0..=MAX_CHUNK.ilog2()).map(|log2| Arc::from(insert_sql(1 << log2))).collect());

/// Anonymous `?` parameters only, the org and the time repeated in each row: SQLite looks a
/// named parameter's name up in a list as long as the parameters, which made binding 8,000
/// named ones quadratic (seconds per batch, measured).
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO serials (org_id, serial_number, serial_key, product_sku, warranty_plan_id, \
         valid_from, valid_until, register_until, customer_tags, create_time, update_time, created_by, import_job) VALUES ",
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "" } else { ", " });
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(" ON CONFLICT (org_id, serial_key) DO NOTHING");
    sql
}

/// The largest power of two not above `remaining`, capped at [`MAX_CHUNK`].
fn chunk_len(remaining: usize) -> usize {
    1 << remaining.min(MAX_CHUNK).ilog2()
}

/// Inserts the rows that do not exist yet, each its own `created` event (`created_by`).
pub(super) async fn insert(conn: &mut SqliteConnection, batch: Batch<'_>) -> Result<Inserted, sqlx::Error> {
    let Batch { ctx, rows, tags, import_job } = batch;
    let now = micros(ctx.now);
    let before: i64 = sqlx::query_scalar(MAX_ID).fetch_one(&mut *conn).await?;
    let mut inserted = 0;
    let mut start = 0;
    while start < rows.len() {
        let len = chunk_len(rows.len() - start);
        let sql = AssertSqlSafe(INSERTS[len.ilog2() as usize].clone());
        let mut query = sqlx::query(sql);
        for (row, tags) in rows[start..start + len].iter().zip(&tags[start..start + len]) {
            let serial = row.serial;
            let window = &serial.window;
            query = query
                .bind(ctx.org)
                .bind(serial.number.as_str())
                .bind(serial.number.key())
                .bind(serial.product_sku.as_ref().map(|sku| sku.as_str()))
                .bind(row.plan)
                .bind(window.valid_from.map(micros))
                .bind(window.valid_until.map(micros))
                .bind(window.register_until.map(micros))
                .bind(tags.as_str())
                .bind(now)
                .bind(now)
                .bind(ctx.actor)
                .bind(import_job);
        }
        inserted += query.execute(&mut *conn).await?.rows_affected();
        start += len;
    }
    if inserted as usize == rows.len() {
        return Ok(Inserted::All);
    }
    let keys: Option<String> = sqlx::query_scalar(INSERTED_KEYS).bind(before).fetch_one(&mut *conn).await?;
    Ok(Inserted::Only(keys.unwrap_or_default().split_whitespace().map(str::to_owned).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_into_power_of_two_chunks() {
        let mut remaining = 10_000;
        let mut lens = Vec::new();
        while remaining > 0 {
            lens.push(chunk_len(remaining));
            remaining -= chunk_len(remaining);
        }
        assert_eq!(lens, [[1024; 9].as_slice(), &[512, 256, 16]].concat());
        assert_eq!(chunk_len(1), 1);
    }

    #[test]
    fn each_row_of_an_insert_has_a_parameter_per_column() {
        let sql = insert_sql(2);
        assert_eq!(sql.matches('?').count(), 26, "{sql}");
        assert!(
            sql.ends_with(
                "?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, serial_key) DO NOTHING"
            ),
            "{sql}"
        );
    }
}
