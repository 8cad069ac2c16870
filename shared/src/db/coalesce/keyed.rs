//! Point reads by key ([`Coalescer`]): a [`Batcher`] whose batch reads each distinct key once,
//! with the statements of one key and of many ([`KeyedStatements`], [`read_keys`]).

use std::collections::HashMap;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Batcher, Run};
use crate::db::{Db, StoreError};

/// Reads the rows of `keys` (distinct, at least one) in org `org` in one statement, each with
/// the key it answers; a key may match no row.
pub type Fetch<R> = fn(Db, String, Vec<String>) -> BoxFuture<'static, Result<Vec<(String, R)>, sqlx::Error>>;

/// A point read's `[postgres, sqlite]` statements, `$1` the org: `one` for a batch of one key
/// (`$2` the key), `many` for more (`$2` an array on PostgreSQL, a JSON array of strings on
/// SQLite). PostgreSQL plans an `= ANY($2)` statement again at every run when its array holds
/// one key (the plan it would keep is costed for a longer array), and planning is most of a
/// point read there; a one-key statement runs a kept plan, as SQLite's always do.
#[derive(Clone, Copy, Debug)]
pub struct KeyedStatements {
    pub one: [&'static str; 2],
    pub many: [&'static str; 2],
}

/// The rows `statements` read for `keys` (distinct, at least one) of `org`, on the read pool.
pub async fn read_keys<R>(
    db: &Db,
    org: &str,
    keys: &[String],
    statements: KeyedStatements,
) -> Result<Vec<R>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + Send
        + Unpin,
{
    let ([one_postgres, one_sqlite], [many_postgres, many_sqlite]) = (statements.one, statements.many);
    match (db, keys) {
        (Db::Postgres(pool), [key]) => sqlx::query_as(one_postgres).bind(org).bind(key).fetch_all(pool).await,
        (Db::Sqlite(pools), [key]) => {
            sqlx::query_as(one_sqlite).bind(org).bind(key).fetch_all(&pools.reader).await
        }
        (Db::Postgres(pool), _) => sqlx::query_as(many_postgres).bind(org).bind(keys).fetch_all(pool).await,
        (Db::Sqlite(pools), _) => {
            let keys = serde_json::to_string(keys).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
            sqlx::query_as(many_sqlite).bind(org).bind(keys).fetch_all(&pools.reader).await
        }
    }
}

/// Point reads by key: a [`Batcher`] whose batch reads each distinct key once.
pub struct Coalescer<R>(Batcher<String, Option<R>>);

impl<R> Clone for Coalescer<R> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<R: Clone + Send + 'static> Coalescer<R> {
    pub fn new(db: Db, fetch: Fetch<R>) -> Self {
        let run: Run<String, Option<R>> = Arc::new(move |db, org, keys: Vec<String>| {
            let mut distinct = keys.clone();
            distinct.sort_unstable();
            distinct.dedup();
            fetch(db, org, distinct)
                .map(move |rows| {
                    let found: HashMap<String, R> = rows?.into_iter().collect();
                    Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
                })
                .boxed()
        });
        Self(Batcher::new(db, run))
    }

    /// The row of `key` in `org`, if there is one.
    pub async fn get(&self, org: &str, key: &str) -> Result<Option<R>, StoreError> {
        self.0.call(org, key.to_owned()).await
    }
}
