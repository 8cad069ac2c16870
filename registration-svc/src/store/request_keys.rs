//! `request_id` replay (the same machinery as serial-svc's). The key is inserted at the start of
//! the mutation's transaction and its answer written just before commit, so a retry either
//! finds the committed answer or waits for (PostgreSQL: blocks on the key's unique index;
//! SQLite: queues behind the one writer) the attempt in flight. A failed attempt rolls back its
//! key with everything else.
//!
//! Multi-step operations (creation, swap) store the id of what they began as their answer, and
//! a replay reads that attempt's current state rather than a frozen answer.

use futures::TryFutureExt;
use serde::{Serialize, de::DeserializeOwned};

use super::{Store, Tx, on_tx, rows::micros};
use crate::domain::{Ctx, RequestIdReused, RequestKey, StoreError};

/// A write transaction that records its answer under the request key, if there is one.
pub(crate) struct Write<'a> {
    pub tx: Tx,
    org: &'a str,
    key: Option<&'a RequestKey>,
}

pub(crate) enum Begun<'a, T> {
    /// The same request was already answered: this is that answer.
    Replay(T),
    Fresh(Write<'a>),
}

const RESERVE: &str = "INSERT INTO request_keys (org_id, request_id, fingerprint, response, create_time) \
                       VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (org_id, request_id) DO NOTHING";
const LOOKUP: &str = "SELECT fingerprint, response FROM request_keys WHERE org_id = $1 AND request_id = $2";
const ANSWER: &str = "UPDATE request_keys SET response = $3 WHERE org_id = $1 AND request_id = $2";

impl<'a> Write<'a> {
    pub async fn begin<T, E>(
        store: &Store,
        ctx: &Ctx<'a>,
        key: Option<&'a RequestKey>,
    ) -> Result<Begun<'a, T>, E>
    where
        T: DeserializeOwned,
        E: From<sqlx::Error> + From<StoreError> + From<RequestIdReused>,
    {
        let mut tx = store.begin().await?;
        if let Some(key) = key {
            let request_id = key.request_id.to_string();
            let fingerprint = key.fingerprint.as_slice();
            let reserved = on_tx!(&mut tx, c => sqlx::query(RESERVE)
                .bind(ctx.org)
                .bind(&request_id)
                .bind(fingerprint)
                .bind(micros(ctx.now))
                .execute(c).map_ok(|r| r.rows_affected()))?;
            if reserved == 0 {
                let (stored, response): (Vec<u8>, Option<String>) = on_tx!(&mut tx, c => sqlx::query_as(LOOKUP).bind(ctx.org).bind(&request_id).fetch_one(c))?;
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
        Ok(Begun::Fresh(Write { tx, org: ctx.org, key }))
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

/// Opens a write for `$key`, or returns the replayed answer from the enclosing function.
macro_rules! begin_write {
    ($store:expr, $ctx:expr, $key:expr) => {
        match $crate::store::request_keys::Write::begin($store, $ctx, $key).await {
            Ok($crate::store::request_keys::Begun::Replay(answer)) => return Ok(answer),
            Ok($crate::store::request_keys::Begun::Fresh(write)) => write,
            Err(err) => return Err(err),
        }
    };
}
pub(crate) use begin_write;

impl Store {
    /// Forgets request keys created before `created_before`; returns how many.
    pub async fn purge_request_keys(
        &self,
        created_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, c => sqlx::query("DELETE FROM request_keys WHERE create_time < $1")
            .bind(micros(created_before))
            .execute(c)
            .map_ok(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(done)
    }
}
