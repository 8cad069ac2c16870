//! `request_id` replay: the machinery is [`shared::db::request_keys`], shared with the other
//! service; this service's migrations define its `request_keys` table. A creation keeps its
//! `request_id` in its attempt instead (`attempts.rs`), and each side refuses a key the other
//! took: the same `request_id` for another method is another request.

pub(crate) use shared::db::request_keys::{Begun, Write};

use super::{Tx, on_tx};
use crate::domain::{RequestKey, StoreError};

const TAKEN_BY_A_CREATION: &str = "SELECT COUNT(*) FROM attempts WHERE org_id = $1 AND request_id = $2";
/// PostgreSQL's lock on request key `$2` of org `$1`, held until the transaction ends.
const LOCK_KEY_POSTGRES: &str =
    "SELECT pg_advisory_xact_lock(hashtext('request_keys'), hashtext($1 || chr(10) || $2))";

/// Locks `key` of `org` until `tx` ends. A creation and a write of another method with the
/// same new key each look for the other's row (`attempts`, `request_keys`), and an uncommitted
/// row is invisible: so each takes this lock first, in a statement of its own, and the later
/// one's next statement sees the first one's commit. (SQLite's one writer runs them one after
/// the other anyway.)
pub(crate) async fn lock_key(tx: &mut Tx, org: &str, key: Option<&RequestKey>) -> Result<(), StoreError> {
    if let (Some(key), Tx::Postgres(tx)) = (key, tx) {
        sqlx::query(LOCK_KEY_POSTGRES).bind(org).bind(key.request_id.to_string()).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Whether `key` is a creation's (inside the transaction that just reserved it for another
/// method), with the key locked (see [`lock_key`]).
pub(crate) async fn taken_by_a_creation(
    tx: &mut Tx,
    org: &str,
    key: Option<&RequestKey>,
) -> Result<bool, StoreError> {
    let Some(key) = key else { return Ok(false) };
    lock_key(tx, org, Some(key)).await?;
    let request_id = key.request_id.to_string();
    let count: i64 =
        on_tx!(tx, c => sqlx::query_scalar(TAKEN_BY_A_CREATION).bind(org).bind(&request_id).fetch_one(c))?;
    Ok(count > 0)
}

/// Opens a [`Write`] on `$db` (a `&Db`) for `$ctx.org` at `$ctx.now` under `$key` (see
/// [`shared::begin_write!`]), refused as reused if a creation holds the key.
macro_rules! begin_write {
    ($db:expr, $ctx:expr, $key:expr) => {{
        let mut write = shared::begin_write!($db, $ctx, $key);
        if $crate::store::request_keys::taken_by_a_creation(&mut write.tx, $ctx.org, $key).await? {
            return Err($crate::domain::RequestIdReused.into());
        }
        write
    }};
}
pub(crate) use begin_write;
