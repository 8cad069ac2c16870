//! Transactions on either backend. Both services keep one schema for PostgreSQL and SQLite, so
//! their stores share this plumbing: open a write or a read transaction, pick the statement
//! where the dialects differ, and run a sqlx future on the transaction's connection.

use super::Db;

/// An open transaction: for writes `BEGIN` on PostgreSQL and `BEGIN IMMEDIATE` on SQLite's one
/// writer connection (so SQLite writers queue in-process instead of failing with "database is
/// locked"); for reads a read-only snapshot.
pub enum Tx {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl Tx {
    /// The statement for this backend, where the two dialects differ.
    pub fn pick(&self, postgres: &'static str, sqlite: &'static str) -> &'static str {
        match self {
            Self::Postgres(_) => postgres,
            Self::Sqlite(_) => sqlite,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx) => tx.commit().await,
            Self::Sqlite(tx) => tx.commit().await,
        }
    }
}

impl Db {
    /// The statement for this backend, where the two dialects differ.
    pub fn pick(&self, postgres: &'static str, sqlite: &'static str) -> &'static str {
        match self {
            Db::Postgres(_) => postgres,
            Db::Sqlite(_) => sqlite,
        }
    }

    /// A write transaction.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Postgres(pool) => pool.begin().await.map(Tx::Postgres),
            Db::Sqlite(pools) => pools.writer.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
        }
    }

    /// A read-only snapshot (REPEATABLE READ on PostgreSQL, SQLite's read pool): its statements
    /// all see the same committed state.
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Postgres(pool) => {
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await.map(Tx::Postgres)
            }
            Db::Sqlite(pools) => pools.reader.begin().await.map(Tx::Sqlite),
        }
    }
}

/// Runs `$body` (a sqlx future built from `$conn`) on the connection of `$tx`, a `&mut`
/// [`Tx`](crate::db::Tx): the body is type-checked once per backend, so one statement text
/// serves both.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body.await
            }
            $crate::db::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body.await
            }
        }
    };
}

/// Runs `$body` (a sqlx future built from `$conn`) on a pool that serves reads, `$db` being a
/// [`Db`](crate::db::Db): PostgreSQL's pool or SQLite's read pool. For a read that is one
/// statement, which needs no transaction to see one committed state.
#[macro_export]
macro_rules! on_reader {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres(pool) => {
                let $conn = pool;
                $body.await
            }
            $crate::db::Db::Sqlite(pools) => {
                let $conn = &pools.reader;
                $body.await
            }
        }
    };
}
