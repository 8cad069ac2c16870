//! The creation saga: `begin_registration` writes the attempt (CLAIMING, its line items, a
//! `claim` intent per serial, the request key) in one transaction; the caller claims each
//! serial from serial-svc with the registration id as claimant; then `complete_registration`
//! (all claimed) or `fail_registration` (a refusal) ends it, each a conditional transition
//! from CLAIMING, so exactly one of them wins and repeating the winner changes nothing.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures::TryFutureExt;
use shared::db::Db;
use shared::db::request_keys::stored_answer;
use sqlx::Row;

use super::{
    Store, Tx, atomically, creation_sql, load, on_reader, on_tx,
    release::{from_states, release},
    rows::{IntentRow, all, micros, to_json},
};
use crate::domain::{
    Attempt, AttemptFailure, BeginError, CompleteError, Ctx, FailError, NewRegistration, RegisteredLineItem,
    Registration, RegistrationId, RegistrationNumber, RegistrationStatus, RequestKey, SerialNumber,
    SerialPlans, Started, StoreError, Text, Transition, Warranty, registration_warranty,
};

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

fn owned(value: &Option<Text>) -> Option<String> {
    text(value).map(str::to_owned)
}

/// `t` as the store keeps it (microseconds), so that what a write answers equals what a read
/// of it returns.
fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// The attempt `write_attempt` wrote, as a read of it would return it.
fn claiming(org: &str, id: &RegistrationId, new: &NewRegistration, now: DateTime<Utc>) -> Registration {
    let line_items = new
        .line_items
        .iter()
        .map(|item| RegisteredLineItem {
            sku: owned(&item.sku),
            name: owned(&item.name),
            quantity: item.quantity,
            product_id: owned(&item.product_id),
            variant_id: owned(&item.variant_id),
            source_line_item_id: owned(&item.source_line_item_id),
            image_url: item.image_url.as_ref().map(|u| u.as_str().to_owned()),
            serial_number: item.serial_number.as_ref().map(|s| s.as_str().to_owned()),
            warranty: None,
            customer_tags: Vec::new(),
        })
        .collect();
    Registration {
        id: id.clone(),
        org_id: org.to_owned(),
        registration_number: None,
        status: RegistrationStatus::Claiming,
        customer_email: new.customer_email.as_str().to_owned(),
        customer_name: owned(&new.customer_name),
        customer_phone: owned(&new.customer_phone),
        channel_name: owned(&new.channel_name),
        form_slug: new.form_slug.as_str().to_owned(),
        line_items,
        customer_provided_order_number: owned(&new.customer_provided_order_number),
        purchase_date: new.purchase_date.map(stored),
        referrer: owned(&new.referrer),
        email_marketing_consent: new.email_marketing_consent,
        email_marketing_consent_time: new.email_marketing_consent_time.map(stored),
        custom_fields: new.custom_fields.as_map().clone(),
        proof_of_purchase_urls: new
            .proof_of_purchase_urls
            .as_slice()
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        warranty: None,
        denial_reason: None,
        failure: None,
        create_time: now,
        update_time: now,
        review_time: None,
        cancel_time: None,
    }
}

impl Store {
    /// Begins creating `new`: the registration in CLAIMING (no number yet), its line items, a
    /// pending `claim` intent per serial and the request key, in one transaction. The attempt is
    /// leased to the caller for the store's lease before the recovery worker may re-drive it.
    /// A retry with the same key gets [`Started::Replay`] with the first attempt as it is now
    /// (CLAIMING: re-drive it; PENDING or later: answer it; FAILED: answer its failure).
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "begin_registration", otel.kind = "client", db.system = self.db.system(), db.operation = "begin_registration"))]
    pub async fn begin_registration(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Started<Attempt>, BeginError> {
        self.begin(ctx, key, new, false).await
    }

    /// Creates `new`, which claims no serial, in one transaction: begun and completed at once
    /// (PENDING with the org's next number, no intent, nothing owed to serial-svc). A retry with
    /// the same key gets [`Started::Replay`] with the first registration as it is now.
    pub async fn register_without_serials(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Started<Attempt>, BeginError> {
        self.begin(ctx, key, new, true).await
    }

    async fn begin(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
        at_once: bool,
    ) -> Result<Started<Attempt>, BeginError> {
        // A key taken by an attempt that then rolled back is free again: write anew. Bounded,
        // so that a key flapping under a stream of failing attempts ends in an error.
        for _ in 0..3 {
            let id = RegistrationId::generate();
            let err = match self.write_attempt(ctx, key, new, &id, at_once).await {
                Ok(attempt) => return Ok(Started::Fresh(attempt)),
                Err(err) => err,
            };
            let Some(key) = key.filter(|_| err.is_unique_violation()) else {
                return Err(err.into());
            };
            let Some(first) = stored_answer::<RegistrationId, BeginError>(&self.db, ctx.org, key).await?
            else {
                continue;
            };
            let attempt = self.get_attempt(ctx.org, &first).await?;
            let attempt =
                attempt.ok_or_else(|| StoreError::Corrupt(format!("request key names no {first}")))?;
            return Ok(Started::Replay(attempt));
        }
        Err(StoreError::Corrupt("request key neither free nor answered".into()).into())
    }

    /// Writes attempt `id` of `new` and `key` (answered with `id`) in one atomic write; a key
    /// already taken fails it with a unique violation. `at_once` (for a registration that claims
    /// no serial) completes it in the same transaction.
    async fn write_attempt(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
        id: &RegistrationId,
        at_once: bool,
    ) -> Result<Attempt, StoreError> {
        let now = stored(ctx.now);
        let lease_until = later(now, self.lease);
        let custom_fields = to_json(new.custom_fields.as_map())?;
        let proof_urls = to_json(&new.proof_of_purchase_urls)?;
        let registration = claiming(ctx.org, id, new, now);
        let items = creation_sql::items_json(&registration.line_items)?;
        let answer = key.map(|_| to_json(id)).transpose()?;
        macro_rules! bind_begin {
            ($q:expr) => {
                $q.bind(ctx.org)
                    .bind(id.as_str())
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
                    .bind(micros(now))
                    .bind(&items)
                    .bind(key.map(|k| k.request_id.to_string()))
                    .bind(key.map(|k| k.fingerprint.as_slice()))
                    .bind(answer.as_deref())
            };
        }
        if at_once {
            let mut tx = self.db.begin_write().await?;
            let begin = tx.pick(creation_sql::BEGIN_POSTGRES, creation_sql::BEGIN_SQLITE);
            on_tx!(&mut tx, c => bind_begin!(sqlx::query(begin)).execute(c).map_ok(drop))?;
            let warranties = vec![None; registration.line_items.len()];
            let completion = creation_sql::Completion::new(&registration, &warranties, micros(now))?;
            let number = complete_in(&mut tx, ctx.org, &completion).await?;
            tx.commit().await?;
            let number = number.ok_or_else(|| StoreError::Corrupt(format!("attempt {id} not completed")))?;
            return Ok(Attempt {
                registration: completed(&registration, number, warranties, now)?,
                intents: vec![],
            });
        }
        let rows: Vec<IntentRow> = atomically!(&self.db, [creation_sql::BEGIN_POSTGRES, creation_sql::BEGIN_SQLITE], q => bind_begin!(q))?;
        let mut intents = all(rows, IntentRow::into_domain)?;
        intents.sort_unstable_by_key(|intent| intent.id);
        Ok(Attempt { registration, intents })
    }

    /// Every serial is claimed: CLAIMING -> PENDING with the org's next number, a holding per
    /// serial, the claims closed, each line item's warranty (from `plans`, starting at the
    /// purchase date or now) with the first serialized one's as the registration's, and each
    /// line item's customer tags as `attempt` carries them (the serials' tags, which the caller
    /// fills in from the claims), their union kept for the `customer_tag` filter. `create_time` becomes
    /// now. `attempt` is the attempt as begun (nothing of it changes while it is CLAIMING).
    /// Completing an attempt that already completed returns it as it is now.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "complete_registration", otel.kind = "client", db.system = self.db.system(), db.operation = "complete_registration"))]
    pub async fn complete_registration(
        &self,
        ctx: &Ctx<'_>,
        attempt: &Registration,
        plans: &SerialPlans,
    ) -> Result<Registration, CompleteError> {
        let now = stored(ctx.now);
        let warranties: Vec<Option<Warranty>> = attempt
            .line_items
            .iter()
            .map(|item| {
                let plan = plans.by_key(&item.serial_number.as_ref()?.to_ascii_lowercase())?;
                Warranty::new(plan, attempt.purchase_date, now)
            })
            .collect();
        let completion = creation_sql::Completion::new(attempt, &warranties, micros(now))?;
        let written = match &self.db {
            Db::Postgres(_) => self
                .completions
                .call(ctx.org, completion)
                .await
                .and_then(|done| done.map_err(StoreError::from)),
            Db::Sqlite(pools) => {
                let script = sqlx::query(creation_sql::COMPLETE_SQLITE)
                    .bind(ctx.org)
                    .bind(attempt.id.as_str())
                    .bind(completion.now)
                    .bind(RegistrationNumber::prefix_for(ctx.org))
                    .bind(completion.warranty())
                    .bind(to_json(&completion.holds)?)
                    .bind(to_json(&completion.tags)?);
                pools.group.run(script).await.and_then(|rows| {
                    rows.first().map(|row| row.try_get::<String, _>(0)).transpose().map_err(StoreError::from)
                })
            }
        };
        let id = &attempt.id;
        let number = match written {
            Ok(number) => number,
            Err(err) if err.is_unique_violation() => {
                return Err(match self.held_elsewhere(ctx.org, attempt).await? {
                    Some(serial_number) => CompleteError::SerialHeld { serial_number },
                    None => err.into(),
                });
            }
            Err(err) => return Err(err.into()),
        };
        let Some(number) = number else {
            return match self.get_attempt(ctx.org, id).await? {
                None => Err(CompleteError::NotFound),
                Some(a) if a.registration.status == RegistrationStatus::Failed => Err(CompleteError::Failed),
                Some(a) => Ok(a.registration),
            };
        };
        Ok(completed(attempt, number, warranties, now)?)
    }

    /// The first serial of `attempt` (as it spells it) that another registration of `org` holds.
    async fn held_elsewhere(&self, org: &str, attempt: &Registration) -> Result<Option<String>, StoreError> {
        let keys: Vec<String> = attempt.serial_numbers().map(str::to_ascii_lowercase).collect();
        let keys = to_json(&keys)?;
        let [postgres, sqlite] = creation_sql::HELD_ELSEWHERE;
        let sql = self.db.pick(postgres, sqlite);
        let held: Option<String> = on_reader!(&self.db, c => sqlx::query_scalar(sql)
            .bind(org)
            .bind(&keys)
            .bind(attempt.id.as_str())
            .fetch_optional(c))?;
        Ok(held.and_then(|key| {
            attempt.serial_numbers().find(|s| s.eq_ignore_ascii_case(&key)).map(str::to_owned)
        }))
    }

    /// A claim was refused: CLAIMING -> FAILED with `failure` kept (a retry with the request key
    /// sees it), the claims closed, and a `release` intent for every serial but those in
    /// `not_claimed` (the ones serial-svc refused: whatever else was tried may have been
    /// claimed). Failing an attempt that already failed returns it unchanged.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "fail_registration", otel.kind = "client", db.system = self.db.system(), db.operation = "fail_registration"))]
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

/// `attempt` as its completion at `now` with `number` and the line items' `warranties` left it.
fn completed(
    attempt: &Registration,
    number: String,
    warranties: Vec<Option<Warranty>>,
    now: DateTime<Utc>,
) -> Result<Registration, StoreError> {
    RegistrationNumber::parse(&number)
        .map_err(|err| StoreError::Corrupt(format!("number {number}: {err}")))?;
    let mut registration = attempt.clone();
    registration.status = Transition::Complete.target();
    registration.registration_number = Some(number);
    for (item, warranty) in registration.line_items.iter_mut().zip(warranties) {
        item.warranty = warranty;
    }
    registration.warranty = registration_warranty(&registration.line_items);
    registration.create_time = now;
    registration.update_time = now;
    Ok(registration)
}

/// Completes `completion` of `org` inside `tx` (see `complete_registration`): the number, or
/// `None` if the attempt was not CLAIMING.
async fn complete_in(
    tx: &mut Tx,
    org: &str,
    completion: &creation_sql::Completion,
) -> Result<Option<String>, StoreError> {
    let prefix = RegistrationNumber::prefix_for(org);
    let number = match tx {
        Tx::Postgres(tx) => {
            let batch = to_json(std::slice::from_ref(completion))?;
            let row: Option<(String, String)> = sqlx::query_as(creation_sql::COMPLETE_POSTGRES)
                .bind(org)
                .bind(&batch)
                .bind(&prefix)
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|(_, number)| number)
        }
        Tx::Sqlite(tx) => {
            sqlx::query_scalar(creation_sql::COMPLETE_SQLITE)
                .bind(org)
                .bind(&completion.id)
                .bind(completion.now)
                .bind(&prefix)
                .bind(completion.warranty())
                .bind(to_json(&completion.holds)?)
                .bind(to_json(&completion.tags)?)
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    Ok(number)
}

/// Closes the attempt's pending claims.
async fn close_claims(tx: &mut Tx, ctx: &Ctx<'_>, id: &RegistrationId) -> Result<(), StoreError> {
    on_tx!(tx, c => sqlx::query(CLOSE_CLAIMS).bind(ctx.org).bind(id.as_str()).bind(micros(ctx.now)).execute(c).map_ok(drop))?;
    Ok(())
}
