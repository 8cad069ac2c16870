//! Transactions on either backend. Both services keep one schema for PostgreSQL and SQLite, so
//! their stores share this plumbing: open a write or a read transaction, pick the statement
//! where the dialects differ, and run a sqlx future on the transaction's connection.

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

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

/// A SQLite script that is one write transaction, for [`atomically!`](crate::atomically): the
/// statements given, between `BEGIN IMMEDIATE` and `COMMIT`.
#[macro_export]
macro_rules! sqlite_transaction {
    ($($statements:expr),+ $(,)?) => {
        concat!("BEGIN IMMEDIATE; ", $($statements),+, "; COMMIT")
    };
}

/// The writer connection an [`atomically!`](crate::atomically) script runs on. Unless the script
/// finished ([`ScriptConn::done`]) or was rolled back, the connection is closed instead of going
/// back to the pool: closing rolls back whatever a script stopped half-way left open (its caller
/// went away between two of its statements, say), so the next writer never starts inside it.
pub struct ScriptConn(Option<PoolConnection<Sqlite>>);

impl ScriptConn {
    pub async fn acquire(pools: &super::SqlitePools) -> Result<Self, sqlx::Error> {
        Ok(Self(Some(pools.writer.acquire().await?)))
    }

    pub fn conn(&mut self) -> &mut SqliteConnection {
        self.0.as_deref_mut().expect("a script connection is used until done")
    }

    /// The script committed: back to the pool.
    pub fn done(mut self) {
        drop(self.0.take());
    }

    /// The script failed: roll back what it left open (closing the connection if that fails,
    /// e.g. because SQLite already rolled back).
    pub async fn roll_back(mut self) {
        if sqlx::query("ROLLBACK").execute(self.conn()).await.is_ok() {
            self.done();
        }
    }
}

impl Drop for ScriptConn {
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take() {
            conn.close_on_drop();
        }
    }
}

/// Runs `$body` (a sqlx future built from `$conn`) as one atomic write, `$db` being a
/// [`Db`](crate::db::Db): on PostgreSQL a single statement on the pool, atomic by itself (one
/// round trip, no `BEGIN`/`COMMIT`); on SQLite a script made with
/// [`sqlite_transaction!`](crate::sqlite_transaction) on the writer connection, in one hand-off
/// to its thread (rolled back if it fails, see [`ScriptConn`]). The body is type-checked once per
/// backend; its statement text is usually picked with [`Db::pick`].
#[macro_export]
macro_rules! atomically {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres(pool) => {
                let $conn = pool;
                $body.await
            }
            $crate::db::Db::Sqlite(pools) => match $crate::db::ScriptConn::acquire(pools).await {
                Err(err) => Err(err),
                Ok(mut script) => {
                    let done = {
                        let $conn = script.conn();
                        $body.await
                    };
                    match done {
                        Ok(out) => {
                            script.done();
                            Ok(out)
                        }
                        Err(err) => {
                            script.roll_back().await;
                            Err(err)
                        }
                    }
                }
            },
        }
    };
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::TryFutureExt;

    use super::*;
    use crate::db::connect;

    const COUNT: &str = "SELECT count(*) FROM t";

    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&format!("sqlite://{}", dir.path().join("t.db").display()), 2).await.unwrap();
        let Db::Sqlite(pools) = &db else { unreachable!() };
        sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)").execute(&pools.writer).await.unwrap();
        (dir, db)
    }

    async fn count(db: &Db) -> i64 {
        crate::on_reader!(db, c => sqlx::query_scalar(COUNT).fetch_one(c)).unwrap()
    }

    #[tokio::test]
    async fn a_failing_script_writes_nothing_and_the_writer_goes_on() {
        let (_dir, db) = sqlite().await;
        let script = sqlite_transaction!("INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)");
        let err = atomically!(&db, c => sqlx::query(script).execute(c).map_ok(drop)).unwrap_err();
        assert!(matches!(&err, sqlx::Error::Database(e) if e.is_unique_violation()), "{err}");
        assert_eq!(count(&db).await, 0, "the first insert was rolled back with the script");
        let script = sqlite_transaction!("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)");
        atomically!(&db, c => sqlx::query(script).execute(c).map_ok(drop)).unwrap();
        assert_eq!(count(&db).await, 2);
    }

    #[tokio::test]
    async fn a_script_whose_caller_went_away_half_way_is_rolled_back() {
        let (_dir, db) = sqlite().await;
        // The caller gives up while the script's second statement runs: the rest of the script,
        // its COMMIT included, never runs, and its first insert must not survive.
        let script = sqlite_transaction!(
            "INSERT INTO t VALUES (1)",
            "; WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) \
             SELECT count(*) FROM c",
            "; INSERT INTO t VALUES (2)"
        );
        let write = async { atomically!(&db, c => sqlx::query(script).execute(c).map_ok(drop)) };
        assert!(tokio::time::timeout(Duration::from_millis(20), write).await.is_err(), "cut short");
        let script = sqlite_transaction!("INSERT INTO t VALUES (3)");
        atomically!(&db, c => sqlx::query(script).execute(c).map_ok(drop)).unwrap();
        let rows: Vec<i64> =
            crate::on_reader!(&db, c => sqlx::query_scalar("SELECT x FROM t").fetch_all(c)).unwrap();
        assert_eq!(rows, [3], "only the next script's write");
    }
}
