//! The only module with SQL. One `Store` serves PostgreSQL and SQLite: the schema and nearly
//! every statement are shared (times are microseconds, parameters are `$N` on both), and the
//! few statements that differ are picked per backend with [`Tx::pick`].
//!
//! Invariants live in the database: uniqueness is the `serials_org_key` index, a claim is one
//! conditional `UPDATE … RETURNING`, allocation locks with `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL and runs in the single writer transaction on SQLite, and a mutation's request key
//! is written in the same transaction as the mutation itself.

mod batch;
mod batch_copy;
mod batch_sqlite;
mod catalog;
mod events;
mod filtered_sql;
mod import_batch;
mod import_jobs;
mod lookup;
mod migrations;
#[cfg(test)]
mod plans;
mod request_keys;
mod rows;
mod serials;

use shared::db::Db;

pub use import_batch::BatchCommitted;

/// Serial-svc's storage, on either backend. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    lookups: lookup::Lookups,
}

pub(crate) use shared::on_reader;
/// Transactions are [`shared::db`]'s, the same for both services.
pub(crate) use shared::{db::Tx, on_tx};

impl Store {
    pub fn new(db: Db) -> Self {
        Self { lookups: lookup::lookups(db.clone()), db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A store on a new pool of `max_connections` to `url`, migrated (for tests and tools).
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let store = Self::new(shared::db::connect(url, max_connections).await?);
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations; safe to run from many replicas at once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.db.migrate(migrations::MIGRATIONS).await
    }
}
