//! What the rule "UNAVAILABLE means nothing happened" needs of the store: an attempt left open
//! is rolled back (`fail_attempt` with `AttemptFailure::rolled_back`), and a retry with its
//! `request_id` restarts it. Every step takes the attempt's row lock (SQLite's writer is alone
//! anyway), so a restart never runs beside a rollback's releases: it waits until they are all
//! done, and a driver that finds its attempt rolled back under it writes its releases again
//! only while the attempt is still FAILED.

use chrono::{DateTime, Utc};
use futures::TryFutureExt;

use super::{
    Store,
    attempts::{AttemptRow, attempt_columns, later, lock},
    load, on_tx,
    release::release,
    rows::micros,
};
use crate::domain::{Attempt, AttemptState, Ctx, RegistrationId, RestartError, StoreError};

/// By id alone: the caller holds the attempt's lock and checked its state (see `plans.rs`).
const RESTART: &str = "UPDATE attempts SET state = 'open', failure = NULL, lease_until = $3, update_time = $4 \
     WHERE org_id = $1 AND id = $2";

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
pub(super) const LEASE_ATTEMPTS_POSTGRES: &str = lease_attempts_sql!(" FOR UPDATE SKIP LOCKED");
pub(super) const LEASE_ATTEMPTS_SQLITE: &str = lease_attempts_sql!("");

impl Store {
    /// Restarts attempt `id`, which was left open and rolled back, for a retry with its
    /// `request_id`: FAILED -> OPEN, leased to the caller. Refused while a release of the
    /// rollback is still pending ([`RestartError::RollbackUnderWay`]: it could undo the new
    /// claim), and for an attempt that is not a rolled-back one.
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
        on_tx!(&mut tx, c => sqlx::query(RESTART)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(micros(lease_until))
            .bind(micros(ctx.now))
            .execute(c).map_ok(drop))?;
        let restarted = lock(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        restarted.ok_or_else(|| StoreError::Corrupt(format!("attempt {id} vanished")).into())
    }

    /// Attempt `id` ended FAILED while a driver was claiming its serials (a rollback, or a
    /// refusal another driver met), so a claim of that driver may have reached serial-svc after
    /// the releases: a `release` of every serial without one pending, written only if the
    /// attempt is still FAILED (a restart may have reopened it). Returns the attempt.
    pub async fn release_again(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
    ) -> Result<Option<Attempt>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let Some(attempt) = lock(&mut tx, ctx.org, id).await? else { return Ok(None) };
        if attempt.state != AttemptState::Failed {
            return Ok(None);
        }
        for serial in &attempt.serial_numbers {
            let pending = attempt.pending_releases().any(|i| i.serial_number.key() == serial.key());
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
