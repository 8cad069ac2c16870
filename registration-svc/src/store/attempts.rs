//! The `attempts` table: a creation attempt is one row, written once when the request arrives
//! (`begin_attempt`, one statement: the `request_id` check and the insert are one atomic
//! step) and closed once: completed with the registration (`registrations.rs`), or failed
//! (`fail_attempt`, a refusal or a rollback, with a `release` intent for what may have been
//! claimed). Closed attempts are kept as the creation's idempotency record.

pub(super) mod creation_sql;
pub(super) mod rollback;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures::TryFutureExt;
use shared::db::Db;
use sqlx::FromRow;

use super::{
    Store, Tx, load, on_reader, on_tx,
    release::release,
    request_keys::lock_key,
    rows::{from_json, micros, opt_time, registration_id, serial, time, to_json},
    sqlite_write,
};
use crate::domain::{
    Attempt, AttemptFailure, AttemptState, BeginError, Ctx, FailError, NewRegistration, RegistrationId,
    RequestKey, SerialNumber, Started, StoreError,
};

/// The columns of an `attempts` row, in [`AttemptRow`]'s order.
macro_rules! attempt_columns {
    () => {
        "id, org_id, state, serials, failure, lease_until, create_time, update_time, fingerprint"
    };
}
pub(super) use attempt_columns;

/// Begins attempt `$1` of org `$2` with request key `$3` (NULL: none), fingerprint `$4`, the
/// request `$5` and its serials `$6` (JSON), leased until `$7`, at `$8`. A key already taken
/// by an attempt writes nothing but answers that attempt (locked, and its lease renewed if it
/// is open and the fingerprints match: its caller drives it again); a key another method took
/// (`request_keys`) writes nothing and answers no row.
macro_rules! begin_sql {
    () => {
        concat!(
            "INSERT INTO attempts (id, org_id, request_id, fingerprint, request, serials, state, lease_until, \
             create_time, update_time) SELECT $1, $2, $3, $4, $5, $6, 'open', $7, $8, $8 \
             WHERE NOT EXISTS (SELECT 1 FROM request_keys WHERE org_id = $2 AND request_id = $3) \
             ON CONFLICT (org_id, request_id) DO UPDATE SET lease_until = CASE WHEN attempts.state = 'open' \
             AND attempts.fingerprint = excluded.fingerprint THEN excluded.lease_until ELSE attempts.lease_until END \
             RETURNING ",
            attempt_columns!()
        )
    };
}
pub(super) const BEGIN: &str = begin_sql!();
/// [`BEGIN`] as a script for SQLite's writer.
pub(super) const BEGIN_SQLITE: &str = shared::sqlite_savepoint!(begin_sql!());

const BY_ID: &str = concat!("SELECT ", attempt_columns!(), " FROM attempts WHERE org_id = $1 AND id = $2");
const LOCK_POSTGRES: &str =
    concat!("SELECT ", attempt_columns!(), " FROM attempts WHERE org_id = $1 AND id = $2 FOR UPDATE");
/// By id alone: the caller holds the attempt's lock and checked that it is open (see `plans.rs`).
const TO_FAILED: &str = "UPDATE attempts SET state = 'failed', failure = $3, lease_until = NULL, update_time = $4 \
     WHERE org_id = $1 AND id = $2";
const OPEN_ATTEMPTS: &str = "SELECT COUNT(*) FROM attempts WHERE state = 'open'";
const PURGE: &str = "DELETE FROM attempts WHERE create_time < $1 AND state <> 'open'";

/// An `attempts` row.
#[derive(FromRow)]
pub(super) struct AttemptRow {
    id: String,
    org_id: String,
    state: String,
    serials: String,
    failure: Option<String>,
    lease_until: Option<i64>,
    create_time: i64,
    update_time: i64,
    fingerprint: Option<Vec<u8>>,
}

impl AttemptRow {
    /// The attempt, with `intents` as written for it.
    pub(super) fn into_domain(self, intents: Vec<crate::domain::Intent>) -> Result<Attempt, StoreError> {
        let state = AttemptState::from_db(&self.state)
            .ok_or_else(|| StoreError::Corrupt(format!("attempt {}: state {:?}", self.id, self.state)))?;
        let serials: Vec<String> = from_json(&self.serials, || format!("attempt {} serials", self.id))?;
        let failure = self
            .failure
            .as_deref()
            .map(|text| from_json(text, || format!("attempt {} failure", self.id)))
            .transpose()?;
        Ok(Attempt {
            id: registration_id(&self.id)?,
            org_id: self.org_id,
            state,
            serial_numbers: serials.iter().map(|s| serial(s)).collect::<Result<_, _>>()?,
            failure,
            lease_until: opt_time(self.lease_until)?,
            intents,
            create_time: time(self.create_time)?,
            update_time: time(self.update_time)?,
        })
    }
}

/// `now + by`, or the end of time.
pub(crate) fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    now.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t` as the store keeps it (microseconds), so that what a write answers equals what a read
/// of it returns.
pub(super) fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// What [`BEGIN`] binds for attempt `id` of `new`.
pub(super) struct Begin {
    pub(super) id: RegistrationId,
    pub(super) request: String,
    pub(super) serials: String,
    pub(super) lease_until: i64,
    pub(super) now: i64,
}

impl Begin {
    pub(super) fn new(store: &Store, ctx: &Ctx<'_>, new: &NewRegistration) -> Result<Self, StoreError> {
        let id = RegistrationId::generate();
        let now = stored(ctx.now);
        let serials: Vec<&str> = new.serial_numbers().map(SerialNumber::as_str).collect();
        Ok(Self {
            request: to_json(&new.requested(&id, ctx.org, now))?,
            serials: to_json(&serials)?,
            lease_until: micros(later(now, store.lease)),
            now: micros(now),
            id,
        })
    }
}

/// Binds [`Begin`] `$b` of `$ctx` and `$key` to query `$q`.
macro_rules! bind_begin {
    ($q:expr, $b:expr, $ctx:expr, $key:expr) => {
        $q.bind($b.id.as_str())
            .bind($ctx.org)
            .bind($key.map(|k| k.request_id.to_string()))
            .bind($key.map(|k| k.fingerprint.to_vec()))
            .bind($b.request.clone())
            .bind($b.serials.clone())
            .bind($b.lease_until)
            .bind($b.now)
    };
}
pub(super) use bind_begin;

/// The attempt [`BEGIN`] answered: fresh if it is `begin`'s own, else the one `key` took
/// before (refused if its request differs, or if another method took the key).
pub(super) fn started(
    row: Option<AttemptRow>,
    begin: &Begin,
    key: Option<&RequestKey>,
) -> Result<Started<Attempt>, BeginError> {
    let Some(row) = row else { return Err(BeginError::RequestIdReused) };
    if row.id == begin.id.as_str() {
        return Ok(Started::Fresh(row.into_domain(Vec::new())?));
    }
    match key {
        Some(key) if row.fingerprint.as_deref() == Some(key.fingerprint.as_slice()) => {
            Ok(Started::Replay(row.into_domain(Vec::new())?))
        }
        Some(_) => Err(BeginError::RequestIdReused),
        None => Err(StoreError::Corrupt(format!("attempt {} answered a begin without a key", row.id)).into()),
    }
}

/// Attempt `id` of `org`, locked until `tx` ends (SQLite's writer is alone anyway), with its
/// intents.
pub(super) async fn lock(tx: &mut Tx, org: &str, id: &RegistrationId) -> Result<Option<Attempt>, StoreError> {
    let sql = tx.pick(LOCK_POSTGRES, BY_ID);
    let row: Option<AttemptRow> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(org).bind(id.as_str()).fetch_optional(c))?;
    let Some(row) = row else { return Ok(None) };
    let intents = load::intents_of(tx, org, id).await?;
    row.into_domain(intents).map(Some)
}

impl Store {
    /// Begins creating `new`, which claims serials: one row holding the request, open and
    /// leased to the caller for the store's lease, in one statement. A retry with the same key
    /// gets [`Started::Replay`] with the first attempt as it is now (its lease renewed if it is
    /// still open: the retry drives it); the same key with another request is refused.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "begin_registration", otel.kind = "client", db.system = self.db.system(), db.operation = "begin_registration"))]
    pub async fn begin_attempt(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Started<Attempt>, BeginError> {
        let begin = Begin::new(self, ctx, new)?;
        let row: Option<AttemptRow> = match &self.db {
            Db::Postgres(pool) if key.is_none() => {
                bind_begin!(sqlx::query_as(BEGIN), begin, ctx, key).fetch_optional(pool).await?
            }
            Db::Postgres(_) => {
                // The key locked first, in the same transaction (see `request_keys::lock_key`).
                let mut tx = self.db.begin_write().await?;
                lock_key(&mut tx, ctx.org, key).await?;
                let row = on_tx!(&mut tx, c => bind_begin!(sqlx::query_as(BEGIN), begin, ctx, key).fetch_optional(c))?;
                tx.commit().await?;
                row
            }
            Db::Sqlite(pools) => {
                let script = bind_begin!(sqlx::query(BEGIN_SQLITE), begin, ctx, key);
                let rows = sqlite_write(pools, script).await?;
                rows.first().map(AttemptRow::from_row).transpose()?
            }
        };
        match started(row, &begin, key)? {
            Started::Replay(attempt) => {
                let current = self.get_attempt(ctx.org, &attempt.id).await?;
                let current =
                    current.ok_or_else(|| StoreError::Corrupt(format!("attempt {} vanished", attempt.id)))?;
                Ok(Started::Replay(current))
            }
            fresh => Ok(fresh),
        }
    }

    /// A claim was refused, or the attempt was left open and is rolled back: OPEN -> FAILED
    /// with `failure` kept (a retry with the request key sees it), and a `release` intent,
    /// due at once, for every serial but those in `not_claimed` (the ones serial-svc refused:
    /// whatever else was tried may have been claimed). Failing an attempt that already failed
    /// returns it unchanged.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "fail_attempt", otel.kind = "client", db.system = self.db.system(), db.operation = "fail_attempt"))]
    pub async fn fail_attempt(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
        failure: &AttemptFailure,
        not_claimed: &[SerialNumber],
    ) -> Result<Attempt, FailError> {
        let mut tx = self.db.begin_write().await?;
        let attempt = lock(&mut tx, ctx.org, id).await?.ok_or(FailError::NotFound)?;
        match attempt.state {
            AttemptState::Open => {}
            AttemptState::Failed => return Ok(attempt),
            AttemptState::Completed => return Err(FailError::Completed),
        }
        on_tx!(&mut tx, c => sqlx::query(TO_FAILED)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(to_json(failure)?)
            .bind(micros(ctx.now))
            .execute(c).map_ok(drop))?;
        for serial in &attempt.serial_numbers {
            if !not_claimed.iter().any(|s| s.key() == serial.key()) {
                release(&mut tx, ctx.org, ctx.now, id, serial.as_str(), None).await?;
            }
        }
        let failed = lock(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        failed.ok_or_else(|| StoreError::Corrupt(format!("attempt {id} vanished")).into())
    }

    /// Attempt `id` of `org` in any state, with its intents.
    pub async fn get_attempt(&self, org: &str, id: &RegistrationId) -> Result<Option<Attempt>, StoreError> {
        let mut tx = self.db.begin_read().await?;
        let row: Option<AttemptRow> =
            on_tx!(&mut tx, c => sqlx::query_as(BY_ID).bind(org).bind(id.as_str()).fetch_optional(c))?;
        let Some(row) = row else { return Ok(None) };
        let intents = load::intents_of(&mut tx, org, id).await?;
        tx.commit().await?;
        row.into_domain(intents).map(Some)
    }

    /// Creation attempts not finished: being claimed, or left open for the recovery worker
    /// (counted on the partial index `attempts_open`).
    pub async fn count_open_attempts(&self) -> Result<i64, StoreError> {
        let count: i64 = on_reader!(&self.db, c => sqlx::query_scalar(OPEN_ATTEMPTS).fetch_one(c))?;
        Ok(count)
    }

    /// Forgets request keys, and closed attempts, created before `created_before`; returns how
    /// many. An attempt's pending releases outlive it (they name its id as the claimant).
    pub async fn purge_request_keys(&self, created_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let keys = shared::db::request_keys::purge(&self.db, created_before).await?;
        let mut tx = self.db.begin_write().await?;
        let attempts = on_tx!(&mut tx, c => sqlx::query(PURGE)
            .bind(micros(created_before))
            .execute(c).map_ok(|done| done.rows_affected()))?;
        tx.commit().await?;
        Ok(keys + attempts)
    }
}
