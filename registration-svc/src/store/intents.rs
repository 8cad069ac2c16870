//! Intent outcomes, and the recovery worker's lease of due intents.
//!
//! The worker serves every org: its two lease calls (this one and
//! `lease_stale_attempts`) are the only ones not scoped by org (each
//! item carries its `org_id` for the calls that follow). A lease moves the item's due time
//! forward by the store's lease in the transaction that picks it (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so replicas picking at once get disjoint batches), and nobody else picks it
//! until that time has passed.

pub(super) mod release;
pub(super) mod swap;

use chrono::{DateTime, Utc};
use futures::TryFutureExt;

use super::{
    Store,
    attempts::later,
    load, on_tx,
    rows::{IntentRow, all, intent_columns, micros},
};
use crate::domain::{Ctx, Intent, IntentError, RegistrationId, StoreError, retry_delay};

/// Longest `last_error` kept, in characters.
const MAX_ERROR_LEN: usize = 1000;

const DONE: &str = concat!(
    "UPDATE intents SET state = 'done', update_time = $3 WHERE org_id = $1 AND id = $2 AND state = 'pending' \
     RETURNING ",
    intent_columns!()
);
const FAILED_TRY: &str = concat!(
    "UPDATE intents SET attempts = attempts + 1, last_error = $3, update_time = $4 \
     WHERE org_id = $1 AND id = $2 AND state = 'pending' RETURNING ",
    intent_columns!()
);
const RETRY_AT: &str = "UPDATE intents SET next_attempt_time = $2 WHERE id = $1";
/// Picks due intents that are not an attempt's claims (those are re-driven with their attempt).
macro_rules! lease_intents_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE intents SET next_attempt_time = $2 WHERE id IN (SELECT id FROM intents \
             WHERE state = 'pending' AND next_attempt_time <= $1 AND (kind = 'release' OR replaces IS NOT NULL) \
             ORDER BY next_attempt_time, id LIMIT $3",
            $lock,
            ") RETURNING ",
            intent_columns!()
        )
    };
}
pub(super) const LEASE_INTENTS_POSTGRES: &str = lease_intents_sql!(" FOR UPDATE SKIP LOCKED");
pub(super) const LEASE_INTENTS_SQLITE: &str = lease_intents_sql!("");

impl Store {
    /// Records that intent `id` was carried out (a release serial-svc acknowledged, or refused
    /// because the serial is no longer ours). Recording it again changes nothing. A swap's
    /// claim is closed by `complete_swap` / `abort_swap` instead.
    pub async fn record_intent_done(&self, ctx: &Ctx<'_>, id: i64) -> Result<Intent, IntentError> {
        let mut tx = self.db.begin_write().await?;
        let current = load::intent(&mut tx, ctx.org, id).await?.ok_or(IntentError::NotFound)?;
        if current.is_swap_claim() {
            return Err(IntentError::SwapClaim);
        }
        let row: Option<IntentRow> = on_tx!(&mut tx, c => sqlx::query_as(DONE).bind(ctx.org).bind(id).bind(micros(ctx.now)).fetch_optional(c))?;
        let Some(row) = row else { return Ok(current) };
        let intent = row.into_domain()?;
        tx.commit().await?;
        Ok(intent)
    }

    /// Records a failed try of intent `id` (serial-svc unreachable, say): one more attempt,
    /// `error` kept, and the next try not before now + [`retry_delay`]. An intent already done
    /// is returned unchanged.
    pub async fn record_intent_failure(
        &self,
        ctx: &Ctx<'_>,
        id: i64,
        error: &str,
    ) -> Result<Intent, IntentError> {
        let error: String = error.chars().take(MAX_ERROR_LEN).collect();
        let mut tx = self.db.begin_write().await?;
        let row: Option<IntentRow> = on_tx!(&mut tx, c => sqlx::query_as(FAILED_TRY)
            .bind(ctx.org)
            .bind(id)
            .bind(&error)
            .bind(micros(ctx.now))
            .fetch_optional(c))?;
        let Some(row) = row else {
            return load::intent(&mut tx, ctx.org, id).await?.ok_or(IntentError::NotFound);
        };
        let mut intent = row.into_domain()?;
        intent.next_attempt_time = later(ctx.now, retry_delay(intent.attempts));
        let retry_at = micros(intent.next_attempt_time);
        on_tx!(&mut tx, c => sqlx::query(RETRY_AT).bind(id).bind(retry_at).execute(c).map_ok(drop))?;
        tx.commit().await?;
        Ok(intent)
    }

    /// For the recovery worker, across orgs: up to `limit` due `release` intents and swap
    /// claims, most overdue first, leased until now + the store's lease. Returned oldest first.
    pub async fn lease_due_intents(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Intent>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let sql = tx.pick(LEASE_INTENTS_POSTGRES, LEASE_INTENTS_SQLITE);
        let rows: Vec<IntentRow> = on_tx!(&mut tx, c => sqlx::query_as(sql)
            .bind(micros(now))
            .bind(micros(later(now, self.lease)))
            .bind(i64::from(limit))
            .fetch_all(c))?;
        tx.commit().await?;
        let mut intents = all(rows, IntentRow::into_domain)?;
        intents.sort_unstable_by_key(|i| i.id);
        Ok(intents)
    }

    /// Every intent of registration (or attempt) `id` of `org`, oldest first.
    pub async fn intents_of(&self, org: &str, id: &RegistrationId) -> Result<Vec<Intent>, StoreError> {
        let mut tx = self.db.begin_read().await?;
        let intents = load::intents_of(&mut tx, org, id).await?;
        tx.commit().await?;
        Ok(intents)
    }
}
