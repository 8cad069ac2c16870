//! What the rule "UNAVAILABLE means nothing happened" needs of the store: an attempt left open
//! is rolled back (`fail_registration` with `AttemptFailure::rolled_back`), and a retry with
//! its `request_id` restarts it. Every step takes the attempt's row lock (SQLite's writer is
//! alone anyway), so a restart never runs beside a rollback's releases: it waits until they
//! are all done, and a driver that finds its attempt rolled back under it writes its releases
//! again only while the attempt is still FAILED.

use futures::TryFutureExt;

use super::{
    Store,
    attempts::later,
    load, on_tx,
    release::{NewIntent, from_states, insert_intent, lock, release},
    rows::micros,
};
use crate::domain::{
    Attempt, Ctx, IntentKind, IntentState, RegistrationId, RegistrationStatus, RestartError, StoreError,
    Transition,
};

const RESTART: &str = "UPDATE registrations SET status = $3, failure_reason = NULL, lease_until = $4, \
     update_time = $5 WHERE org_id = $1 AND id = $2 AND status = $6";
/// `$4` is CLAIMING, bound (see `intents::ATTEMPT_RETRY_AT`).
const LEASE: &str = "UPDATE registrations SET lease_until = $3 WHERE org_id = $1 AND id = $2 AND status = $4";

impl Store {
    /// Restarts attempt `id`, which was left open and rolled back, for a retry with its
    /// `request_id`: FAILED -> CLAIMING, leased to the caller, with a pending claim per serial.
    /// Refused while a release of the rollback is still pending ([`RestartError::RollbackUnderWay`]:
    /// it could undo the new claim), and for an attempt that is not a rolled-back one.
    pub async fn restart_registration(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
    ) -> Result<Attempt, RestartError> {
        let mut tx = self.db.begin_write().await?;
        lock(&mut tx, ctx.org, id).await?.ok_or(RestartError::NotFound)?;
        let registration = load::existing(&mut tx, ctx.org, id).await?;
        let intents = load::intents_of(&mut tx, ctx.org, id).await?;
        let attempt = Attempt { registration, intents };
        if !attempt.is_rolled_back() {
            return Err(RestartError::NotRolledBack { status: attempt.registration.status });
        }
        if attempt.pending_releases().next().is_some() {
            return Err(RestartError::RollbackUnderWay);
        }
        let lease_until = later(ctx.now, self.lease);
        let (failed, _) = from_states(Transition::Restart);
        on_tx!(&mut tx, c => sqlx::query(RESTART)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(Transition::Restart.target().as_str())
            .bind(micros(lease_until))
            .bind(micros(ctx.now))
            .bind(failed)
            .execute(c).map_ok(drop))?;
        for serial in attempt.registration.serial_numbers() {
            let claim = NewIntent {
                registration_id: id,
                kind: IntentKind::Claim,
                serial_number: serial,
                replaces: None,
                replaced_by: None,
                due: lease_until,
            };
            insert_intent(&mut tx, ctx.org, ctx.now, claim).await?;
        }
        let registration = load::existing(&mut tx, ctx.org, id).await?;
        let intents = load::intents_of(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        Ok(Attempt { registration, intents })
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
        if lock(&mut tx, ctx.org, id).await? != Some(RegistrationStatus::Failed) {
            return Ok(None);
        }
        let registration = load::existing(&mut tx, ctx.org, id).await?;
        let intents = load::intents_of(&mut tx, ctx.org, id).await?;
        for serial in registration.serial_numbers() {
            let pending = intents.iter().any(|i| {
                i.kind == IntentKind::Release
                    && i.state == IntentState::Pending
                    && i.serial_number.as_str().eq_ignore_ascii_case(serial)
            });
            if !pending {
                release(&mut tx, ctx.org, ctx.now, id, serial, None).await?;
            }
        }
        let intents = load::intents_of(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        Ok(Some(Attempt { registration, intents }))
    }

    /// Keeps open attempt `id` from the recovery worker for the store's lease from now: its
    /// caller is driving it again (a retry with its `request_id`).
    pub async fn lease_attempt(&self, ctx: &Ctx<'_>, id: &RegistrationId) -> Result<(), StoreError> {
        let lease_until = micros(later(ctx.now, self.lease));
        let claiming = RegistrationStatus::Claiming.as_str();
        let mut tx = self.db.begin_write().await?;
        on_tx!(&mut tx, c => sqlx::query(LEASE).bind(ctx.org).bind(id.as_str()).bind(lease_until).bind(claiming).execute(c).map_ok(drop))?;
        tx.commit().await?;
        Ok(())
    }
}
