//! The only module with SQL. One `Store` serves PostgreSQL and SQLite: the schema and nearly
//! every statement are shared (times are microseconds, parameters are `$N` on both), and the
//! few statements that differ are picked per backend with [`Tx::pick`]: JSON lists
//! (`jsonb_array_elements_text` vs `json_each`), and `FOR UPDATE [SKIP LOCKED]`, which SQLite's
//! single writer does not need.
//!
//! Invariants live in the database. Every change of a registration's status is one conditional
//! `UPDATE … WHERE status IN (<Transition::allowed_from>)`, which on PostgreSQL also takes the
//! registration's row lock: every write that touches a registration's holdings or line items
//! takes that lock first, so concurrent writes of one registration run one after the other and
//! each sees the other's committed rows. Holdings, intents, numbers and request keys are
//! written in the transaction of the change they belong to.
//!
//! Reads run in a read-only transaction (REPEATABLE READ on PostgreSQL, SQLite's read pool), so
//! a registration and its line items come from one snapshot.
//!
//! Files are named by the table they write, each operation in the folder of its table:
//! - `attempts` (begin, fail, the backlog), with `creation_sql` (a creation's completion) and
//!   `rollback` (attempts left open: the worker's lease, restart, release again);
//! - `registrations` (the insert, once complete), with `reads` (get, look up, list),
//!   `review` (approve, deny, cancel, expire), `update` and `reset`;
//! - `intents` (outcomes, the worker's leases), with `release` (intents and holdings, the
//!   registration's row lock) and `swap`;
//! - `request_keys`; `rows` and `load` (row types, reads inside a transaction); `errors` (the
//!   one place a database failure becomes a domain error); `migrations`.

mod attempts;
mod errors;
mod intents;
mod load;
mod migrations;
mod registrations;
mod request_keys;
mod rows;

use attempts::creation_sql;
use intents::release;
use registrations::reads;

use chrono::Duration;
pub use shared::db::ServiceStore;
use shared::db::migrations::Source;
use shared::db::{Db, StoreError};

/// How long a lease keeps an attempt or intent from the recovery worker, by default: longer
/// than a request handler's deadline, so the worker never races a live request.
pub const DEFAULT_LEASE_SECS: i64 = 60;

/// Registration-svc's storage, on either backend. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    lease: Duration,
    reads: reads::PointReads,
}

/// Transactions are [`shared::db`]'s, the same for both services: writes in
/// [`Db::begin_write`], reads in a snapshot from [`Db::begin_read`].
pub(crate) use shared::{db::Tx, on_reader, on_tx};

/// Runs `script` (made with [`shared::sqlite_savepoint!`]) on SQLite's writer, in the writer's
/// next group commit; its rows.
async fn sqlite_write(
    pools: &shared::db::SqlitePools,
    script: shared::db::Script,
) -> Result<Vec<sqlx::sqlite::SqliteRow>, StoreError> {
    pools.group.run(script).await
}

impl Store {
    /// The same store with another lease: how long a fresh attempt, or an attempt or intent the
    /// recovery worker leased, is kept from the worker.
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }
}

impl ServiceStore for Store {
    const MIGRATIONS: &'static [Source] = migrations::MIGRATIONS;

    /// A store whose leases last [`DEFAULT_LEASE_SECS`].
    fn new(db: Db) -> Self {
        Self { reads: reads::PointReads::new(&db), db, lease: Duration::seconds(DEFAULT_LEASE_SECS) }
    }

    fn db(&self) -> &Db {
        &self.db
    }
}
