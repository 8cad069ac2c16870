//! The only module with SQL. One `Store` serves PostgreSQL and SQLite: the schema and nearly
//! every statement are shared (times are microseconds, parameters are `$N` on both), and the
//! few statements that differ are picked per backend with [`Tx::pick`].
//!
//! Invariants live in the database: uniqueness is the `serials_org_key` index, a claim is one
//! conditional `UPDATE … RETURNING`, allocation locks with `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL and runs in the single writer transaction on SQLite, and a mutation's request key
//! is written in the same transaction as the mutation itself.
//!
//! Files are named by table (`serials`, `serial_events`, `catalog` for products and warranty
//! plans, `import_jobs` for jobs and their kept errors, `request_keys`), each holding the SQL of
//! both backends side by side, with the larger tables' parts in a folder of the same name;
//! [`errors`] is the one place where a database error becomes an operation's error.

mod catalog;
mod errors;
mod import_jobs;
mod migrations;
mod request_keys;
mod serial_events;
mod serials;

use chrono::{DateTime, Utc};
pub use shared::db::ServiceStore;
use shared::db::migrations::Source;
use shared::db::{Db, StoreError};

pub use import_jobs::BatchCommitted;

/// Serial-svc's storage, on either backend. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    lookups: serials::Lookups,
}

pub(crate) use shared::on_reader;
/// Transactions are [`shared::db`]'s, the same for both services.
pub(crate) use shared::{db::Tx, on_tx};

impl ServiceStore for Store {
    const MIGRATIONS: &'static [Source] = migrations::MIGRATIONS;

    fn new(db: Db) -> Self {
        Self { lookups: serials::lookups(db.clone()), db }
    }

    fn db(&self) -> &Db {
        &self.db
    }
}

/// A time as stored: microseconds since the epoch.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time read back.
fn time(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {us} out of range")))
}

fn opt_time(us: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    us.map(time).transpose()
}

/// Converts a batch of rows, failing on the first unreadable one.
fn all<R, T>(rows: Vec<R>, convert: impl Fn(R) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(convert).collect()
}
