//! A million registrations in a few set-based statements, written straight into
//! registration-svc's database once it created its schema: PENDING registrations of the
//! benchmark's org with one line item each, the holding of its serial, the completed attempt
//! that created it, and the org's number counter moved past them, as the service would have
//! stored them (times in
//! microseconds, JSON columns as text). Numbering follows the service's own
//! (`BENCH-REG-00001`, at least five digits); ids are UUIDs built from the row number.

use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{
    Connection, Database, Encode, Executor, IntoArguments, PgConnection, Postgres, Sqlite, SqliteConnection,
    Type,
};

use crate::args::Backend;

/// The org of the benchmark's token (`token::mint`), and the number prefix registration-svc
/// derives from it.
const ORG: &str = "bench";
const NUMBER_PREFIX: &str = "BENCH-REG-";
/// The fixtures' product and plan; the warranty is the one a two-year plan gives.
const SKU: &str = crate::fixtures::PRODUCT_SKU;
const WARRANTY: &str = r#"{"plan_id":"BENCH-PLAN","plan_name":"bench plan","coverage_start":"2026-11-01T00:00:00Z","coverage_end":"2028-11-01T00:00:00Z"}"#;
/// Rows per transaction.
const CHUNK: u64 = 100_000;
/// Create times are 1 ms apart, all in the last hour or so (well within the review period, so
/// that the expiry sweep leaves them alone) and older than anything the service creates.
const STEP_MICROS: i64 = 1_000;

const REGISTRATIONS_POSTGRES: &str = "INSERT INTO registrations (id, org_id, registration_number, status, \
     customer_email, customer_email_key, customer_name, form_slug, email_marketing_consent, custom_fields, \
     proof_urls, warranty, create_time, update_time) \
     SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), $1, \
     $2 || CASE WHEN i < 10000 THEN lpad(i::text, 5, '0') ELSE i::text END, 'pending', \
     'seeded-' || i || '@example.com', 'seeded-' || i || '@example.com', 'Bench Customer', \
     'product-registration', FALSE, '{}', '[]', $4, $5 + i * $6, $5 + i * $6 \
     FROM generate_series(CAST($7 AS BIGINT), CAST($8 AS BIGINT)) AS i";
const LINE_ITEMS_POSTGRES: &str = "INSERT INTO line_items (registration_id, position, org_id, sku, name, \
     quantity, serial_number, serial_key, warranty) \
     SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 0, $1, $3, 'bench product', 1, \
     'SEED-' || lpad(i::text, 8, '0'), 'seed-' || lpad(i::text, 8, '0'), $4 \
     FROM generate_series(CAST($7 AS BIGINT), CAST($8 AS BIGINT)) AS i";
const HOLDINGS_POSTGRES: &str = "INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     SELECT $1, 'seed-' || lpad(i::text, 8, '0'), '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), \
     'SEED-' || lpad(i::text, 8, '0') \
     FROM generate_series(CAST($7 AS BIGINT), CAST($8 AS BIGINT)) AS i";
/// The completed attempt of each registration, with its request and serials as JSON text.
const ATTEMPTS_POSTGRES: &str = "INSERT INTO attempts (id, org_id, request, serials, state, create_time, update_time) \
     SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), $1, \
     json_build_object('id', '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'org_id', $1, \
     'customer_email', 'seeded-' || i || '@example.com', 'customer_name', 'Bench Customer', \
     'form_slug', 'product-registration', 'line_items', json_build_array(json_build_object('sku', $3, \
     'name', 'bench product', 'quantity', 1, 'serial_number', 'SEED-' || lpad(i::text, 8, '0'))))::text, \
     json_build_array('SEED-' || lpad(i::text, 8, '0'))::text, 'completed', $5 + i * $6, $5 + i * $6 \
     FROM generate_series(CAST($7 AS BIGINT), CAST($8 AS BIGINT)) AS i";
const COUNTER_POSTGRES: &str = "INSERT INTO org_counters (org_id, last_number) VALUES ($1, $8) \
     ON CONFLICT (org_id) DO UPDATE SET last_number = GREATEST(org_counters.last_number, excluded.last_number)";

const REGISTRATIONS_SQLITE: &str = "INSERT INTO registrations (id, org_id, registration_number, status, \
     customer_email, customer_email_key, customer_name, form_slug, email_marketing_consent, custom_fields, \
     proof_urls, warranty, create_time, update_time) \
     WITH RECURSIVE seq(i) AS (SELECT CAST($7 AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < $8) \
     SELECT printf('00000000-0000-4000-8000-%012x', i), $1, printf('%s%05d', $2, i), 'pending', \
     'seeded-' || i || '@example.com', 'seeded-' || i || '@example.com', 'Bench Customer', \
     'product-registration', FALSE, '{}', '[]', $4, $5 + i * $6, $5 + i * $6 FROM seq";
const LINE_ITEMS_SQLITE: &str = "INSERT INTO line_items (registration_id, position, org_id, sku, name, \
     quantity, serial_number, serial_key, warranty) \
     WITH RECURSIVE seq(i) AS (SELECT CAST($7 AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < $8) \
     SELECT printf('00000000-0000-4000-8000-%012x', i), 0, $1, $3, 'bench product', 1, \
     printf('SEED-%08d', i), printf('seed-%08d', i), $4 FROM seq";
const HOLDINGS_SQLITE: &str = "INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     WITH RECURSIVE seq(i) AS (SELECT CAST($7 AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < $8) \
     SELECT $1, printf('seed-%08d', i), printf('00000000-0000-4000-8000-%012x', i), printf('SEED-%08d', i) \
     FROM seq";
const ATTEMPTS_SQLITE: &str = "INSERT INTO attempts (id, org_id, request, serials, state, create_time, update_time) \
     WITH RECURSIVE seq(i) AS (SELECT CAST($7 AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < $8) \
     SELECT printf('00000000-0000-4000-8000-%012x', i), $1, \
     json_object('id', printf('00000000-0000-4000-8000-%012x', i), 'org_id', $1, \
     'customer_email', 'seeded-' || i || '@example.com', 'customer_name', 'Bench Customer', \
     'form_slug', 'product-registration', 'line_items', json_array(json_object('sku', $3, \
     'name', 'bench product', 'quantity', 1, 'serial_number', printf('SEED-%08d', i)))), \
     json_array(printf('SEED-%08d', i)), 'completed', $5 + i * $6, $5 + i * $6 FROM seq";
const COUNTER_SQLITE: &str = "INSERT INTO org_counters (org_id, last_number) VALUES ($1, $8) \
     ON CONFLICT (org_id) DO UPDATE SET last_number = MAX(org_counters.last_number, excluded.last_number)";

/// The statements that seed a chunk, in one backend's SQL. Each takes the same parameters:
/// `$1` the org, `$2` its number prefix, `$3` the SKU, `$4` the warranty, `$5` the base time,
/// `$6` the step between create times, `$7..=$8` the registrations' numbers.
struct Statements {
    registrations: &'static str,
    line_items: &'static str,
    holdings: &'static str,
    attempts: &'static str,
    counter: &'static str,
}

const POSTGRES: Statements = Statements {
    registrations: REGISTRATIONS_POSTGRES,
    line_items: LINE_ITEMS_POSTGRES,
    holdings: HOLDINGS_POSTGRES,
    attempts: ATTEMPTS_POSTGRES,
    counter: COUNTER_POSTGRES,
};
const SQLITE: Statements = Statements {
    registrations: REGISTRATIONS_SQLITE,
    line_items: LINE_ITEMS_SQLITE,
    holdings: HOLDINGS_SQLITE,
    attempts: ATTEMPTS_SQLITE,
    counter: COUNTER_SQLITE,
};

/// Writes `count` registrations into the database at `url`; returns how long it took.
pub async fn registrations(backend: Backend, url: &str, count: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).context("the clock is before 1970")?;
    let now = i64::try_from(now.as_micros()).context("the clock is past 2262")?;
    let count_i64 = i64::try_from(count).context("too many registrations")?;
    // The newest seeded registration is a minute old.
    let base = now - 60_000_000 - count_i64 * STEP_MICROS;
    let mut first = 1;
    while first <= count {
        let last = (first + CHUNK - 1).min(count);
        let (first_i, last_i) = (first as i64, last as i64);
        match backend {
            Backend::Postgres => {
                let mut conn = PgConnection::connect(url).await.context("cannot connect to seed")?;
                seed_chunk::<Postgres>(&mut conn, &POSTGRES, base, first_i, last_i).await?;
            }
            Backend::Sqlite => {
                seed_chunk::<Sqlite>(&mut sqlite(url).await?, &SQLITE, base, first_i, last_i).await?
            }
        }
        eprintln!("{}: seeded {last} of {count} registrations", backend.name());
        first = last + 1;
    }
    Ok(started.elapsed())
}

/// Seeds registrations `first..=last` (created `base` + their number x [`STEP_MICROS`]) in one
/// transaction on `conn`, with `sql` in its backend's dialect.
async fn seed_chunk<DB: Database>(
    conn: &mut DB::Connection,
    sql: &Statements,
    base: i64,
    first: i64,
    last: i64,
) -> anyhow::Result<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> i64: Encode<'e, DB> + Type<DB>,
    for<'e> &'static str: Encode<'e, DB> + Type<DB>,
{
    let mut tx = conn.begin().await?;
    for (statement, what) in [
        (sql.registrations, "registrations"),
        (sql.line_items, "line items"),
        (sql.holdings, "holdings"),
        (sql.attempts, "attempts"),
        (sql.counter, "the counter"),
    ] {
        sqlx::query(statement)
            .bind(ORG)
            .bind(NUMBER_PREFIX)
            .bind(SKU)
            .bind(WARRANTY)
            .bind(base)
            .bind(STEP_MICROS)
            .bind(first)
            .bind(last)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot seed {what}"))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Leaves the database as a long-running service would find it, so that no background work
/// starts in the middle of a measurement: on PostgreSQL `VACUUM (ANALYZE)` (autovacuum would
/// otherwise pick the freshly written tables up at any moment); on SQLite the WAL is
/// checkpointed (SQLite has no statistics unless someone runs ANALYZE, and the services do not).
pub async fn settle(backend: Backend, url: &str) -> anyhow::Result<()> {
    match backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(url).await.context("cannot connect to vacuum")?;
            sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut conn).await.context("VACUUM failed")?;
            conn.close().await.ok();
        }
        Backend::Sqlite => {
            let mut conn = sqlite(url).await?;
            sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
            conn.close().await.ok();
        }
    }
    Ok(())
}

async fn sqlite(url: &str) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(url)
        .context("bad sqlite url")?
        .busy_timeout(Duration::from_secs(60))
        .create_if_missing(false);
    SqliteConnection::connect_with(&options).await.context("cannot open the sqlite database")
}
