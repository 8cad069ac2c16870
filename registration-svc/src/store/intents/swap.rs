//! `SwapSerial`: the new serial is claimed before the old one is released.
//!
//! `begin_swap` writes a `claim` intent for the new serial (`replaces` = the old one); the
//! caller claims it from serial-svc with the registration id as claimant; `complete_swap` then
//! moves the line item (with the new serial's customer tags, from which the registration's tags
//! are recomputed) and the holding to the new serial and writes the old one's `release`
//! (with `replaced_by`), or `abort_swap` gives up, releasing the new serial if it may have been
//! claimed. One swap at a time per registration; every step takes the registration's row lock,
//! so a concurrent cancel either comes first (the swap completes with `NoLongerHeld`: abort
//! it) or releases the new serial itself.

use futures::TryFutureExt;

use crate::domain::{
    AbortSwapError, AttemptFailure, CompleteSwapError, Ctx, IntentKind, IntentState, Registration,
    RequestKey, SerialFacts, SerialNumber, Started, StoreError, SwapAttempt, SwapError, Warranty,
    WarrantyPlanTerms, customer_tags, sku_fits,
};
use crate::store::{
    Store, Tx,
    attempts::later,
    load, on_tx,
    release::{NewIntent, holder, insert_intent, lock, release},
    request_keys::{Begun, Write, taken_by_a_creation},
    rows::{micros, to_json},
};

const SWAP_IN_FLIGHT: &str = "SELECT id FROM intents WHERE org_id = $1 AND registration_id = $2 \
     AND kind = 'claim' AND replaces IS NOT NULL AND state = 'pending'";
const TOUCH: &str = "UPDATE registrations SET update_time = $3 WHERE org_id = $1 AND id = $2";
const UNHOLD: &str = "DELETE FROM holdings WHERE org_id = $1 AND serial_key = $2 AND registration_id = $3";
const HOLD: &str = "INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, serial_key) DO NOTHING";
const MOVE_ITEM: &str = "UPDATE line_items SET serial_number = $3, serial_key = $4, warranty = $5, \
     customer_tags = $6 WHERE registration_id = $1 AND serial_key = $2 RETURNING position";
const UNTAG: &str = "DELETE FROM registration_tags WHERE registration_id = $1";
/// The registration's tags `$4` (a JSON array) at its create time `$3`.
const TAG: [&str; 2] = [
    "INSERT INTO registration_tags (org_id, tag, create_time, registration_id) \
     SELECT $1, value, $3, $2 FROM jsonb_array_elements_text($4::jsonb)",
    "INSERT INTO registration_tags (org_id, tag, create_time, registration_id) \
     SELECT $1, value, $3, $2 FROM json_each($4)",
];
const SET_WARRANTY: &str = "UPDATE registrations SET warranty = $3 WHERE org_id = $1 AND id = $2";
const CLOSE: &str = "UPDATE intents SET state = 'done', failure = $3, update_time = $4 \
     WHERE org_id = $1 AND id = $2 AND state = 'pending'";

impl Store {
    /// Begins replacing `old` (held by a registration of the org) with `new`: a pending `claim`
    /// of `new` by that registration, leased to the caller. A retry with the same key gets
    /// [`Started::Replay`] with the first swap as it is now.
    pub async fn begin_swap(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        old: &SerialNumber,
        new: &SerialNumber,
    ) -> Result<Started<SwapAttempt>, SwapError> {
        if old.key() == new.key() {
            return Err(SwapError::SameSerial);
        }
        let mut write = match Write::begin::<i64, SwapError>(&self.db, ctx.org, ctx.now, key).await? {
            Begun::Replay(claim_id) => {
                let swap = self.get_swap(ctx.org, claim_id).await?;
                let swap =
                    swap.ok_or_else(|| StoreError::Corrupt(format!("request key names no swap {claim_id}")))?;
                return Ok(Started::Replay(swap));
            }
            Begun::Fresh(write) => write,
        };
        if taken_by_a_creation(&mut write.tx, ctx.org, key).await? {
            return Err(SwapError::RequestIdReused);
        }
        let tx = &mut write.tx;
        let id = holder(tx, ctx.org, old).await?.ok_or(SwapError::NotHeld)?;
        lock(tx, ctx.org, &id).await?;
        // Under the lock: the holding may have moved while we waited.
        if holder(tx, ctx.org, old).await?.as_ref() != Some(&id) {
            return Err(SwapError::NotHeld);
        }
        if holder(tx, ctx.org, new).await?.is_some() {
            return Err(SwapError::NewSerialHeld);
        }
        let in_flight: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(SWAP_IN_FLIGHT).bind(ctx.org).bind(id.as_str()).fetch_optional(c))?;
        if in_flight.is_some() {
            return Err(SwapError::SwapInFlight);
        }
        let claim = NewIntent {
            registration_id: &id,
            kind: IntentKind::Claim,
            serial_number: new.as_str(),
            replaces: Some(old),
            replaced_by: None,
            due: later(ctx.now, self.lease),
        };
        let claim = insert_intent(tx, ctx.org, ctx.now, claim).await?;
        write.commit(&claim.id).await?;
        Ok(Started::Fresh(SwapAttempt { claim }))
    }

    /// The new serial is claimed and, per `facts`, fits the line item's SKU (else
    /// [`CompleteSwapError::ProductMismatch`], nothing written): the line item takes it (with its warranty from `plan`, from
    /// the purchase date or the registration's create time; the registration's too if it is the
    /// first serialized line item), the holding moves, the old serial
    /// gets a `release` intent with `replaced_by`. Completing again returns the registration.
    pub async fn complete_swap(
        &self,
        ctx: &Ctx<'_>,
        claim_id: i64,
        plan: Option<&WarrantyPlanTerms>,
        facts: &SerialFacts,
    ) -> Result<Registration, CompleteSwapError> {
        let mut tx = self.db.begin_write().await?;
        let found = load::intent(&mut tx, ctx.org, claim_id).await?.filter(|i| i.is_swap_claim());
        let id = found.ok_or(CompleteSwapError::NotFound)?.registration_id;
        let now = micros(ctx.now);
        // The row lock first, then the claim as it is under the lock.
        let status = lock(&mut tx, ctx.org, &id).await?;
        let claim = load::intent(&mut tx, ctx.org, claim_id).await?.ok_or(CompleteSwapError::NotFound)?;
        let (Some(old), new) = (&claim.replaces, &claim.serial_number) else {
            return Err(CompleteSwapError::NotFound);
        };
        if claim.failure.is_some() {
            return Err(CompleteSwapError::Aborted);
        }
        if claim.state == IntentState::Done {
            return Ok(load::existing(&mut tx, ctx.org, &id).await?);
        }
        if !status.is_some_and(|s| s.holds_serials()) {
            return Err(CompleteSwapError::NoLongerHeld);
        }
        let registration = load::existing(&mut tx, ctx.org, &id).await?;
        let sku = registration
            .line_items
            .iter()
            .find(|item| item.serial_number.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(old.as_str())))
            .and_then(|item| item.sku.clone());
        if !sku_fits(sku.as_deref(), facts.product_sku.as_deref()) {
            let (sku, product_sku) = (sku.unwrap_or_default(), facts.product_sku.clone().unwrap_or_default());
            return Err(CompleteSwapError::ProductMismatch { sku, product_sku });
        }
        let unheld = on_tx!(&mut tx, c => sqlx::query(UNHOLD).bind(ctx.org).bind(old.key()).bind(id.as_str()).execute(c).map_ok(|r| r.rows_affected()))?;
        if unheld == 0 {
            return Err(CompleteSwapError::NoLongerHeld);
        }
        let held = on_tx!(&mut tx, c => sqlx::query(HOLD).bind(ctx.org).bind(new.key()).bind(id.as_str()).bind(new.as_str()).execute(c).map_ok(|r| r.rows_affected()))?;
        if held == 0 {
            return Err(CompleteSwapError::NewSerialHeld);
        }
        on_tx!(&mut tx, c => sqlx::query(TOUCH).bind(ctx.org).bind(id.as_str()).bind(now).execute(c).map_ok(drop))?;
        let warranty =
            plan.and_then(|p| Warranty::new(p, registration.purchase_date, registration.create_time));
        let warranty = warranty.as_ref().map(to_json).transpose()?;
        let new_tags = Some(&facts.customer_tags).filter(|t| !t.is_empty()).map(to_json).transpose()?;
        on_tx!(&mut tx, c => sqlx::query_scalar::<_, i32>(MOVE_ITEM)
            .bind(id.as_str())
            .bind(old.key())
            .bind(new.as_str())
            .bind(new.key())
            .bind(warranty.as_deref())
            .bind(new_tags.as_deref())
            .fetch_one(c))?;
        retag(&mut tx, ctx.org, &registration, old, &facts.customer_tags).await?;
        let first_serial = registration.serial_numbers().next();
        if first_serial.is_some_and(|first| first.eq_ignore_ascii_case(old.as_str())) {
            on_tx!(&mut tx, c => sqlx::query(SET_WARRANTY).bind(ctx.org).bind(id.as_str()).bind(warranty.as_deref()).execute(c).map_ok(drop))?;
        }
        on_tx!(&mut tx, c => sqlx::query(CLOSE).bind(ctx.org).bind(claim_id).bind(None::<String>).bind(now).execute(c).map_ok(drop))?;
        let old_number = registration
            .serial_numbers()
            .find(|serial| serial.eq_ignore_ascii_case(old.as_str()))
            .unwrap_or(old.as_str());
        release(&mut tx, ctx.org, ctx.now, &id, old_number, Some(new)).await?;
        let registration = load::existing(&mut tx, ctx.org, &id).await?;
        tx.commit().await?;
        Ok(registration)
    }

    /// Gives the swap up with `failure` (kept for a retry with the request key): nothing
    /// changes but, if `may_be_claimed`, a `release` intent for the new serial. Aborting again
    /// returns the swap.
    pub async fn abort_swap(
        &self,
        ctx: &Ctx<'_>,
        claim_id: i64,
        failure: &AttemptFailure,
        may_be_claimed: bool,
    ) -> Result<SwapAttempt, AbortSwapError> {
        let mut tx = self.db.begin_write().await?;
        let claim = load::intent(&mut tx, ctx.org, claim_id).await?.filter(|i| i.is_swap_claim());
        let claim = claim.ok_or(AbortSwapError::NotFound)?;
        let closed = on_tx!(&mut tx, c => sqlx::query(CLOSE)
            .bind(ctx.org)
            .bind(claim_id)
            .bind(to_json(failure)?)
            .bind(micros(ctx.now))
            .execute(c).map_ok(|r| r.rows_affected()))?;
        if closed == 0 {
            let claim = load::intent(&mut tx, ctx.org, claim_id).await?.ok_or(AbortSwapError::NotFound)?;
            return match claim.failure {
                Some(_) => Ok(SwapAttempt { claim }),
                None => Err(AbortSwapError::Completed),
            };
        }
        if may_be_claimed {
            let id = &claim.registration_id;
            release(&mut tx, ctx.org, ctx.now, id, claim.serial_number.as_str(), None).await?;
        }
        let claim = load::intent(&mut tx, ctx.org, claim_id).await?.ok_or(AbortSwapError::NotFound)?;
        tx.commit().await?;
        Ok(SwapAttempt { claim })
    }

    /// The swap whose claim is intent `claim_id`.
    pub async fn get_swap(&self, org: &str, claim_id: i64) -> Result<Option<SwapAttempt>, StoreError> {
        let mut tx = self.db.begin_read().await?;
        let claim = load::intent(&mut tx, org, claim_id).await?;
        tx.commit().await?;
        Ok(claim.filter(|c| c.is_swap_claim()).map(|claim| SwapAttempt { claim }))
    }
}

/// Rewrites `registration`'s rows of `registration_tags` for its line item of `old` now
/// carrying a serial tagged `new_tags`.
async fn retag(
    tx: &mut Tx,
    org: &str,
    registration: &Registration,
    old: &SerialNumber,
    new_tags: &[String],
) -> Result<(), StoreError> {
    let mut items = registration.line_items.clone();
    for item in &mut items {
        if item.serial_number.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(old.as_str())) {
            item.customer_tags = new_tags.to_vec();
        }
    }
    let tags = customer_tags(&items);
    if tags == registration.customer_tags() {
        return Ok(());
    }
    let id = registration.id.as_str();
    on_tx!(tx, c => sqlx::query(UNTAG).bind(id).execute(c).map_ok(drop))?;
    let [postgres, sqlite] = TAG;
    let sql = tx.pick(postgres, sqlite);
    let (time, tags) = (micros(registration.create_time), to_json(&tags)?);
    on_tx!(tx, c => sqlx::query(sql).bind(org).bind(id).bind(time).bind(&tags).execute(c).map_ok(drop))?;
    Ok(())
}
