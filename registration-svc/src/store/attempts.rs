//! The creation saga: `begin_registration` writes the attempt (CLAIMING, its line items, a
//! `claim` intent per serial, the request key) in one transaction; the caller claims each
//! serial from serial-svc with the registration id as claimant; then `complete_registration`
//! (all claimed) or `fail_registration` (a refusal) ends it, each a conditional transition
//! from CLAIMING, so exactly one of them wins and repeating the winner changes nothing.

use chrono::{DateTime, Duration, Utc};
use futures::TryFutureExt;

use super::{
    Store, Tx, load, on_tx,
    release::{NewIntent, from_states, insert_intent, release},
    request_keys::{Begun, Write},
    rows::{RegistrationRow, micros, registration_columns, time, to_json},
};
use crate::domain::{
    Attempt, AttemptFailure, BeginError, CompleteError, Ctx, FailError, IntentKind, LineItem,
    NewRegistration, Registration, RegistrationId, RegistrationNumber, RegistrationStatus, RequestKey,
    SerialNumber, SerialPlans, Started, StoreError, Text, Transition, Warranty,
};

const INSERT_REGISTRATION: &str = "INSERT INTO registrations (id, org_id, registration_number, status, \
     customer_email, customer_email_key, customer_name, customer_phone, channel_name, form_slug, order_number, \
     purchase_date, referrer, email_marketing_consent, email_marketing_consent_time, custom_fields, proof_urls, \
     lease_until, create_time, update_time) \
     VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)";
const INSERT_LINE_ITEM: &str = "INSERT INTO line_items (registration_id, position, org_id, sku, name, quantity, \
     product_id, variant_id, source_line_item_id, image_url, serial_number, serial_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// Takes the attempt's row lock if it is still in `$4` (CLAIMING).
const CLAIMING: &str = concat!(
    "UPDATE registrations SET update_time = $3 WHERE org_id = $1 AND id = $2 AND status = $4 RETURNING ",
    registration_columns!()
);
const NEXT_NUMBER: &str = "INSERT INTO org_counters (org_id, last_number) VALUES ($1, 1) \
     ON CONFLICT (org_id) DO UPDATE SET last_number = org_counters.last_number + 1 RETURNING last_number";
const ITEM_SERIALS: &str =
    "SELECT position, serial_number, serial_key FROM line_items WHERE registration_id = $1 ORDER BY position";
const SET_ITEM_WARRANTY: &str =
    "UPDATE line_items SET warranty = $3 WHERE registration_id = $1 AND position = $2";
const HOLD: &str = "INSERT INTO holdings (org_id, serial_key, registration_id, serial_number) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, serial_key) DO NOTHING";
const TO_PENDING: &str = "UPDATE registrations SET status = $3, registration_number = $4, warranty = $5, \
     create_time = $6, update_time = $6, lease_until = NULL WHERE org_id = $1 AND id = $2";
const TO_FAILED: &str = "UPDATE registrations SET status = $3, failure_reason = $4, update_time = $5, \
     lease_until = NULL WHERE org_id = $1 AND id = $2 AND status = $6";
const CLOSE_CLAIMS: &str = "UPDATE intents SET state = 'done', update_time = $3 WHERE org_id = $1 \
     AND registration_id = $2 AND kind = 'claim' AND replaces IS NULL AND state = 'pending'";

/// `now + by`, or the end of time.
pub(crate) fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    now.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn text(value: &Option<Text>) -> Option<&str> {
    value.as_ref().map(Text::as_str)
}

impl Store {
    /// Begins creating `new`: the registration in CLAIMING (no number yet), its line items, a
    /// pending `claim` intent per serial and the request key, in one transaction. The attempt is
    /// leased to the caller for the store's lease before the recovery worker may re-drive it.
    /// A retry with the same key gets [`Started::Replay`] with the first attempt as it is now
    /// (CLAIMING: re-drive it; PENDING or later: answer it; FAILED: answer its failure).
    pub async fn begin_registration(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Started<Attempt>, BeginError> {
        let mut write =
            match Write::begin::<RegistrationId, BeginError>(&self.db, ctx.org, ctx.now, key).await? {
                Begun::Replay(id) => {
                    let attempt = self.get_attempt(ctx.org, &id).await?;
                    let attempt =
                        attempt.ok_or_else(|| StoreError::Corrupt(format!("request key names no {id}")))?;
                    return Ok(Started::Replay(attempt));
                }
                Begun::Fresh(write) => write,
            };
        let id = RegistrationId::generate();
        let lease_until = later(ctx.now, self.lease);
        insert_registration(&mut write.tx, ctx, &id, new, lease_until).await?;
        for (position, item) in new.line_items.iter().enumerate() {
            insert_line_item(&mut write.tx, ctx.org, &id, position, item).await?;
            let claim = NewIntent {
                registration_id: &id,
                kind: IntentKind::Claim,
                serial_number: item.serial_number.as_str(),
                replaces: None,
                replaced_by: None,
                due: lease_until,
            };
            insert_intent(&mut write.tx, ctx.org, ctx.now, claim).await?;
        }
        let registration = load::existing(&mut write.tx, ctx.org, &id).await?;
        let intents = load::intents_of(&mut write.tx, ctx.org, &id).await?;
        write.commit(&id).await?;
        Ok(Started::Fresh(Attempt { registration, intents }))
    }

    /// Every serial is claimed: CLAIMING -> PENDING with the org's next number, a holding per
    /// serial, the claims closed, and each line item's warranty (from `plans`, starting at the
    /// purchase date or now) with the first one's as the registration's. `create_time` becomes
    /// now. Completing an attempt that already completed returns it unchanged.
    pub async fn complete_registration(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
        plans: &SerialPlans,
    ) -> Result<Registration, CompleteError> {
        let mut tx = self.db.begin_write().await?;
        let (claiming, _) = from_states(Transition::Complete);
        let row: Option<RegistrationRow> = on_tx!(&mut tx, c => sqlx::query_as(CLAIMING)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(micros(ctx.now))
            .bind(claiming)
            .fetch_optional(c))?;
        let Some(row) = row else {
            return match load::registration(&mut tx, ctx.org, id).await? {
                None => Err(CompleteError::NotFound),
                Some(r) if r.status == RegistrationStatus::Failed => Err(CompleteError::Failed),
                Some(r) => Ok(r),
            };
        };
        let purchase_date = row.purchase_date.map(time).transpose()?;
        let items: Vec<(i32, String, String)> =
            on_tx!(&mut tx, c => sqlx::query_as(ITEM_SERIALS).bind(id.as_str()).fetch_all(c))?;
        let mut first_warranty = None;
        for (position, serial_number, serial_key) in items {
            let warranty =
                plans.by_key(&serial_key).and_then(|plan| Warranty::new(plan, purchase_date, ctx.now));
            if let Some(warranty) = &warranty {
                let json = to_json(warranty)?;
                on_tx!(&mut tx, c => sqlx::query(SET_ITEM_WARRANTY).bind(id.as_str()).bind(position).bind(&json).execute(c).map_ok(drop))?;
            }
            if position == 0 {
                first_warranty = warranty;
            }
            let held = on_tx!(&mut tx, c => sqlx::query(HOLD)
                .bind(ctx.org)
                .bind(&serial_key)
                .bind(id.as_str())
                .bind(&serial_number)
                .execute(c).map_ok(|r| r.rows_affected()))?;
            if held == 0 {
                return Err(CompleteError::SerialHeld { serial_number });
            }
        }
        let warranty = first_warranty.as_ref().map(to_json).transpose()?;
        close_claims(&mut tx, ctx, id).await?;
        // The org's counter row is locked from here to the commit, serializing every creation
        // of the org: taken last, so that it is held for as few statements as possible.
        let sequence: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(NEXT_NUMBER).bind(ctx.org).fetch_one(c))?;
        let sequence =
            u64::try_from(sequence).map_err(|_| StoreError::Corrupt(format!("sequence {sequence}")))?;
        let number = RegistrationNumber::new(ctx.org, sequence);
        on_tx!(&mut tx, c => sqlx::query(TO_PENDING)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(Transition::Complete.target().as_str())
            .bind(number.as_str())
            .bind(warranty)
            .bind(micros(ctx.now))
            .execute(c).map_ok(drop))?;
        let registration = load::existing(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        Ok(registration)
    }

    /// A claim was refused: CLAIMING -> FAILED with `failure` kept (a retry with the request key
    /// sees it), the claims closed, and a `release` intent for every serial but those in
    /// `not_claimed` (the ones serial-svc refused: whatever else was tried may have been
    /// claimed). Failing an attempt that already failed returns it unchanged.
    pub async fn fail_registration(
        &self,
        ctx: &Ctx<'_>,
        id: &RegistrationId,
        failure: &AttemptFailure,
        not_claimed: &[SerialNumber],
    ) -> Result<Attempt, FailError> {
        let mut tx = self.db.begin_write().await?;
        let (claiming, _) = from_states(Transition::Fail);
        let failed = on_tx!(&mut tx, c => sqlx::query(TO_FAILED)
            .bind(ctx.org)
            .bind(id.as_str())
            .bind(Transition::Fail.target().as_str())
            .bind(to_json(failure)?)
            .bind(micros(ctx.now))
            .bind(claiming)
            .execute(c).map_ok(|r| r.rows_affected()))?;
        if failed == 0 {
            let current = load::registration(&mut tx, ctx.org, id).await?.ok_or(FailError::NotFound)?;
            if current.status != RegistrationStatus::Failed {
                return Err(FailError::Completed { status: current.status });
            }
            let intents = load::intents_of(&mut tx, ctx.org, id).await?;
            return Ok(Attempt { registration: current, intents });
        }
        close_claims(&mut tx, ctx, id).await?;
        let registration = load::existing(&mut tx, ctx.org, id).await?;
        for serial in registration.serial_numbers() {
            let key = serial.to_ascii_lowercase();
            if !not_claimed.iter().any(|s| s.key() == key) {
                release(&mut tx, ctx.org, ctx.now, id, serial, None).await?;
            }
        }
        let intents = load::intents_of(&mut tx, ctx.org, id).await?;
        tx.commit().await?;
        Ok(Attempt { registration, intents })
    }

    /// Registration `id` in any state (CLAIMING and FAILED included) with all its intents.
    pub async fn get_attempt(&self, org: &str, id: &RegistrationId) -> Result<Option<Attempt>, StoreError> {
        let mut tx = self.db.begin_read().await?;
        let Some(registration) = load::registration(&mut tx, org, id).await? else { return Ok(None) };
        let intents = load::intents_of(&mut tx, org, id).await?;
        tx.commit().await?;
        Ok(Some(Attempt { registration, intents }))
    }
}

async fn insert_registration(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    id: &RegistrationId,
    new: &NewRegistration,
    lease_until: DateTime<Utc>,
) -> Result<(), StoreError> {
    let custom_fields = to_json(new.custom_fields.as_map())?;
    let proof_urls = to_json(&new.proof_of_purchase_urls)?;
    on_tx!(tx, c => sqlx::query(INSERT_REGISTRATION)
        .bind(id.as_str())
        .bind(ctx.org)
        .bind(RegistrationStatus::Claiming.as_str())
        .bind(new.customer_email.as_str())
        .bind(new.customer_email.key())
        .bind(text(&new.customer_name))
        .bind(text(&new.customer_phone))
        .bind(text(&new.channel_name))
        .bind(new.form_slug.as_str())
        .bind(text(&new.customer_provided_order_number))
        .bind(new.purchase_date.map(micros))
        .bind(text(&new.referrer))
        .bind(new.email_marketing_consent)
        .bind(new.email_marketing_consent_time.map(micros))
        .bind(&custom_fields)
        .bind(&proof_urls)
        .bind(micros(lease_until))
        .bind(micros(ctx.now))
        .execute(c).map_ok(drop))?;
    Ok(())
}

async fn insert_line_item(
    tx: &mut Tx,
    org: &str,
    id: &RegistrationId,
    position: usize,
    item: &LineItem,
) -> Result<(), StoreError> {
    let position =
        i32::try_from(position).map_err(|_| StoreError::Corrupt(format!("line item {position}")))?;
    on_tx!(tx, c => sqlx::query(INSERT_LINE_ITEM)
        .bind(id.as_str())
        .bind(position)
        .bind(org)
        .bind(text(&item.sku))
        .bind(text(&item.name))
        .bind(item.quantity)
        .bind(text(&item.product_id))
        .bind(text(&item.variant_id))
        .bind(text(&item.source_line_item_id))
        .bind(item.image_url.as_ref().map(|u| u.as_str()))
        .bind(item.serial_number.as_str())
        .bind(item.serial_number.key())
        .execute(c).map_ok(drop))?;
    Ok(())
}

/// Closes the attempt's pending claims.
async fn close_claims(tx: &mut Tx, ctx: &Ctx<'_>, id: &RegistrationId) -> Result<(), StoreError> {
    on_tx!(tx, c => sqlx::query(CLOSE_CLAIMS).bind(ctx.org).bind(id.as_str()).bind(micros(ctx.now)).execute(c).map_ok(drop))?;
    Ok(())
}
