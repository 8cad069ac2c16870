//! `request_id` replay, the same for every mutation of both services. The key is inserted at
//! the start of the mutation's transaction and its answer written just before commit, so a
//! retry either finds the committed answer or waits for (PostgreSQL: blocks on the key's unique
//! index; SQLite: queues behind the one writer) the attempt in flight. A failed attempt rolls
//! back its key with everything else.
//!
//! Each service's migrations create its own `request_keys` table with the columns used here:
//! `(org_id, request_id)` unique, `fingerprint`, `response` (JSON, NULL until answered) and
//! `create_time` (microseconds).

use chrono::{DateTime, Utc};
use futures::TryFutureExt;
use serde::{Serialize, de::DeserializeOwned};

use super::{Db, RequestIdReused, StoreError, Tx};
use crate::on_tx;
use crate::request_id::RequestKey;

/// How long a `request_id` is remembered: the API promises at least 24 hours.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(48);
/// How often each service purges the request keys past [`RETENTION`].
pub const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// A write transaction that records its answer under the request key, if there is one.
pub struct Write<'a> {
    pub tx: Tx,
    org: &'a str,
    key: Option<&'a RequestKey>,
}

pub enum Begun<'a, T> {
    /// The same request was already answered: this is that answer.
    Replay(T),
    Fresh(Write<'a>),
}

const RESERVE: &str = "INSERT INTO request_keys (org_id, request_id, fingerprint, response, create_time) \
                       VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (org_id, request_id) DO NOTHING";
const LOOKUP: &str = "SELECT fingerprint, response FROM request_keys WHERE org_id = $1 AND request_id = $2";
const ANSWER: &str = "UPDATE request_keys SET response = $3 WHERE org_id = $1 AND request_id = $2";

impl<'a> Write<'a> {
    /// Opens a write transaction and reserves `key` for `org`, or finds the answer it already
    /// has. `E` is the operation's error: a database failure, or the id reused for another
    /// request.
    pub async fn begin<T, E>(
        db: &Db,
        org: &'a str,
        now: DateTime<Utc>,
        key: Option<&'a RequestKey>,
    ) -> Result<Begun<'a, T>, E>
    where
        T: DeserializeOwned,
        E: From<sqlx::Error> + From<StoreError> + From<RequestIdReused>,
    {
        let mut tx = db.begin_write().await?;
        if let Some(key) = key {
            let request_id = key.request_id.to_string();
            let fingerprint = key.fingerprint.as_slice();
            let reserved = on_tx!(&mut tx, c => sqlx::query(RESERVE)
                .bind(org)
                .bind(&request_id)
                .bind(fingerprint)
                .bind(now.timestamp_micros())
                .execute(c).map_ok(|r| r.rows_affected()))?;
            if reserved == 0 {
                let (stored, response): (Vec<u8>, Option<String>) =
                    on_tx!(&mut tx, c => sqlx::query_as(LOOKUP).bind(org).bind(&request_id).fetch_one(c))?;
                if stored != fingerprint {
                    return Err(RequestIdReused.into());
                }
                let response =
                    response.ok_or_else(|| StoreError::Corrupt("request key without an answer".into()))?;
                let answer = serde_json::from_str(&response)
                    .map_err(|err| StoreError::Corrupt(format!("stored answer unreadable: {err}")))?;
                return Ok(Begun::Replay(answer));
            }
        }
        Ok(Begun::Fresh(Write { tx, org, key }))
    }

    /// Records `answer` under the request key and commits.
    pub async fn commit<T: Serialize>(mut self, answer: &T) -> Result<(), StoreError> {
        if let Some(key) = self.key {
            let json = serde_json::to_string(answer)
                .map_err(|err| StoreError::Corrupt(format!("answer not serializable: {err}")))?;
            let request_id = key.request_id.to_string();
            on_tx!(&mut self.tx, c => sqlx::query(ANSWER).bind(self.org).bind(&request_id).bind(&json).execute(c).map_ok(drop))?;
        }
        Ok(self.tx.commit().await?)
    }
}

/// The answer stored under `key` for `org`, read outside any transaction: for a write that
/// reserves its key with a plain insert and met a unique violation (the key was answered
/// first). `None` when the key is not there (the attempt that held it rolled back).
pub async fn stored_answer<T, E>(db: &Db, org: &str, key: &RequestKey) -> Result<Option<T>, E>
where
    T: DeserializeOwned,
    E: From<sqlx::Error> + From<StoreError> + From<RequestIdReused>,
{
    let request_id = key.request_id.to_string();
    let row: Option<(Vec<u8>, Option<String>)> =
        crate::on_reader!(db, c => sqlx::query_as(LOOKUP).bind(org).bind(&request_id).fetch_optional(c))?;
    let Some((stored, response)) = row else { return Ok(None) };
    if stored.as_slice() != key.fingerprint.as_slice() {
        return Err(RequestIdReused.into());
    }
    let response = response.ok_or_else(|| StoreError::Corrupt("request key without an answer".into()))?;
    let answer = serde_json::from_str(&response)
        .map_err(|err| StoreError::Corrupt(format!("stored answer unreadable: {err}")))?;
    Ok(Some(answer))
}

/// Opens a [`Write`] on `$db` (a `&Db`) for `$ctx.org` at `$ctx.now` under `$key`, or returns
/// the replayed answer from the enclosing function.
#[macro_export]
macro_rules! begin_write {
    ($db:expr, $ctx:expr, $key:expr) => {
        match $crate::db::request_keys::Write::begin($db, $ctx.org, $ctx.now, $key).await {
            Ok($crate::db::request_keys::Begun::Replay(answer)) => return Ok(answer),
            Ok($crate::db::request_keys::Begun::Fresh(write)) => write,
            Err(err) => return Err(err),
        }
    };
}

/// Forgets request keys created before `created_before`; returns how many.
pub async fn purge(db: &Db, created_before: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = db.begin_write().await?;
    let done = on_tx!(&mut tx, c => sqlx::query("DELETE FROM request_keys WHERE create_time < $1")
        .bind(created_before.timestamp_micros())
        .execute(c)
        .map_ok(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(done)
}
