//! What the rule "UNAVAILABLE means nothing happened" needs of the store: an attempt left open
//! is rolled back (`fail_attempt` with `AttemptFailure::rolled_back`), and a retry with its
//! `request_id` restarts it. Every step takes the attempt's row lock (SQLite's writer is alone
//! anyway), so a restart never runs beside a rollback's releases: it waits until they are all
//! done. A restarted attempt claims under a new id (the request moves to it), so that no
//! release of the rolled-back one still in flight (a worker's, say) can undo its claims; a
//! driver that finds its attempt failed under it writes its releases again, under its own id.

use chrono::{DateTime, Utc};
use futures::TryFutureExt;

use crate::domain::{
    Attempt, AttemptState, Ctx, IntentKind, IntentState, RegistrationId, RestartError, SerialNumber,
    StoreError,
};
use crate::store::{
    Store,
    attempts::{AttemptRow, attempt_columns, later, lock},
    load, on_tx,
    release::release,
    rows::micros,
};

/// By id alone: the caller holds the attempt's lock and checked its state (see `plans.rs`).
const RESTART: &str = "UPDATE attempts SET id = $5, state = 'open', failure = NULL, lease_until = $3, \
     update_time = $4 WHERE org_id = $1 AND id = $2";

/// Picks open attempts whose lease has passed, most overdue first.
macro_rules! lease_attempts_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE attempts SET lease_until = $2 WHERE id IN (SELECT id FROM attempts \
             WHERE state = 'open' AND lease_until <= $1 ORDER BY lease_until, id LIMIT $3",
            $lock,
            ") RETURNING ",
            attempt_columns!()
        )
    };
}
pub(in crate::store) const LEASE_ATTEMPTS_POSTGRES: &str = lease_attempts_sql!(" FOR UPDATE SKIP LOCKED");
pub(in crate::store) const LEASE_ATTEMPTS_SQLITE: &str = lease_attempts_sql!("");

impl Store {
    /// Restarts attempt `id`, which was left open and rolled back, for a retry with its
    /// `request_id`: FAILED -> OPEN under a new id (the claimant from now on: a release of the
    /// old id still in flight cannot undo its claims), leased to the caller. Refused while a
    /// release of the rollback is still pending ([`RestartError::RollbackUnderWay`]: the serial
    /// is not free yet), and for an attempt that is not a rolled-back one. The releases of the
    /// old id stay with it.
    pub async fn restart_attempt(&self, ctx: &Ctx<'_>, id: &RegistrationId) -> Result<Attempt, RestartError> {
        let mut tx = self.db.begin_write().await?;
        let attempt = lock(&mut tx, ctx.org, id).await?.ok_or(RestartError::NotFound)?;
        if !attempt.is_rolled_back() {
            return Err(RestartError::NotRolledBack { state: attempt.state });
        }
        if attempt.pending_releases().next().is_some() {
            return Err(RestartError::RollbackUnderWay);
        }
        let lease_until = later(ctx.now, self.lease);
        let new_id = RegistrationId::generate();
        on_tx!(&mut tx, c => sqlx::query(RESTART)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(micros(lease_until))
            .bind(micros(ctx.now))
            .bind(new_id.as_str())
            .execute(c).map_ok(drop))?;
        let restarted = lock(&mut tx, ctx.org, &new_id).await?;
        tx.commit().await?;
        restarted.ok_or_else(|| StoreError::Corrupt(format!("attempt {new_id} vanished")).into())
    }

    /// Attempt `id` ended FAILED while a driver was claiming `serials` (a rollback, or a
    /// refusal another driver met), so a claim of that driver may have reached serial-svc after
    /// the releases: a `release` of each of them by `id` without one pending. Written while
    /// the attempt is FAILED, or once a restart moved its request to a new id (`id` claims
    /// nothing any more); not if it is open or completed under `id`. Returns the attempt if it
    /// is still there under `id`.
    pub async fn release_again(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
        serials: &[SerialNumber],
    ) -> Result<Option<Attempt>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let attempt = lock(&mut tx, ctx.org, id).await?;
        if attempt.as_ref().is_some_and(|a| a.state != AttemptState::Failed) {
            return Ok(None);
        }
        let intents = load::intents_of(&mut tx, ctx.org, id).await?;
        for serial in serials {
            let pending = intents.iter().any(|i| {
                i.kind == IntentKind::Release
                    && i.state == IntentState::Pending
                    && i.serial_number.key() == serial.key()
            });
            if !pending {
                release(&mut tx, ctx.org, ctx.now, id, serial.as_str(), None).await?;
            }
        }
        let attempt = lock(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        Ok(attempt)
    }

    /// For the recovery worker, across orgs: up to `limit` open attempts whose lease has passed
    /// (their request died, or serial-svc was unreachable), most overdue first, leased until
    /// now + the store's lease, to be rolled back (never completed: its caller was told nothing
    /// happened).
    pub async fn lease_stale_attempts(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Attempt>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let sql = tx.pick(LEASE_ATTEMPTS_POSTGRES, LEASE_ATTEMPTS_SQLITE);
        let rows: Vec<AttemptRow> = on_tx!(&mut tx, c => sqlx::query_as(sql)
            .bind(micros(now))
            .bind(micros(later(now, self.lease)))
            .bind(i64::from(limit))
            .fetch_all(c))?;
        let mut attempts = Vec::with_capacity(rows.len());
        for row in rows {
            let attempt = row.into_domain(Vec::new())?;
            let intents = load::intents_of(&mut tx, &attempt.org_id, &attempt.id).await?;
            attempts.push(Attempt { intents, ..attempt });
        }
        tx.commit().await?;
        attempts.sort_unstable_by(|a, b| (a.create_time, &a.id).cmp(&(b.create_time, &b.id)));
        Ok(attempts)
    }
}
