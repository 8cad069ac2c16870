//! Inserting a registration, once, when it is complete: one transaction writes it PENDING with
//! the org's next number, its line items (each with its serial's warranty and customer tags),
//! a holding per serial and its tags, and closes its attempt (`completed`). Nothing of it is
//! written before, and nothing is updated after, so a creation writes each row once.
//!
//! On PostgreSQL a completion is one statement; on SQLite one script in the writer's group
//! commit (see `creation_sql`).

#[cfg(test)]
mod index_plans;
pub(super) mod reads;
pub(super) mod reset;
pub(super) mod review;
pub(super) mod update;

use chrono::{DateTime, Utc};
use shared::db::Db;
use sqlx::FromRow;

use super::{
    Store, Tx,
    attempts::{AttemptRow, BEGIN, Begin, bind_begin, started, stored},
    creation_sql::{COMPLETE_POSTGRES, COMPLETE_SQLITE, Completion, HELD_ELSEWHERE},
    load, on_reader, on_tx,
    request_keys::lock_key,
    rows::to_json,
    sqlite_write,
};
use crate::domain::{
    AttemptState, BeginError, CompleteError, Ctx, NewRegistration, Registration, RegistrationNumber,
    RegistrationStatus, RequestKey, SerialPlans, Started, StoreError, Warranty, registration_warranty,
};

/// Binds a completion statement's parameters (see `creation_sql`): the org, the attempt's id,
/// the time, the org's number prefix and the [`Completion`] as JSON (returning early if it
/// cannot be written as JSON).
macro_rules! bind_complete {
    ($query:expr, $org:expr, $completion:expr) => {
        $query
            .bind($org)
            .bind(&$completion.id)
            .bind($completion.now)
            .bind(RegistrationNumber::prefix_for($org))
            .bind(to_json(&$completion)?)
    };
}
impl Store {
    /// Creates `new`, which claims no serial, in one transaction: its attempt, completed at
    /// once, and the registration PENDING with the org's next number (nothing is owed to
    /// serial-svc). A retry with the same key gets [`Started::Replay`] with the first
    /// registration as it is now.
    pub async fn register_without_serials(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        new: &NewRegistration,
    ) -> Result<Started<Registration>, BeginError> {
        let begin = Begin::new(self, ctx, new)?;
        let mut tx = self.db.begin_write().await?;
        lock_key(&mut tx, ctx.org, key).await?;
        let row: Option<AttemptRow> =
            on_tx!(&mut tx, c => bind_begin!(sqlx::query_as(BEGIN), begin, ctx, key).fetch_optional(c))?;
        let attempt = match started(row, &begin, key)? {
            Started::Fresh(attempt) => attempt,
            Started::Replay(attempt) if attempt.state == AttemptState::Completed => {
                let registration = load::existing(&mut tx, ctx.org, &attempt.id).await?;
                return Ok(Started::Replay(registration));
            }
            Started::Replay(attempt) => {
                let state = attempt.state;
                return Err(
                    StoreError::Corrupt(format!("attempt {} of no serial is {state:?}", attempt.id)).into()
                );
            }
        };
        let now = stored(ctx.now);
        let registration = new.requested(&attempt.id, ctx.org, now);
        let warranties = vec![None; registration.line_items.len()];
        let completion = Completion::new(&registration, &warranties, now)?;
        let number = complete_in(&mut tx, ctx.org, &completion).await?;
        tx.commit().await?;
        let number =
            number.ok_or_else(|| StoreError::Corrupt(format!("attempt {} not completed", attempt.id)))?;
        Ok(Started::Fresh(completed(&registration, number, warranties, now)?))
    }

    /// Every serial of attempt `requested.id` is claimed: the registration `requested` (as
    /// [`NewRegistration::requested`] made it, each line item's customer tags filled in from
    /// its claim) is written PENDING with the org's next number, each line item's warranty
    /// (from `plans`, starting at the purchase date or now) with the first serialized one's as
    /// the registration's, a holding per serial and the registration's tags (the union of its
    /// line items', for the `customer_tag` filter), and the attempt is closed, in one
    /// transaction. `create_time` is now. Completing an attempt that already completed returns
    /// the registration as it is now.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "complete_registration", otel.kind = "client", db.system = self.db.system(), db.operation = "complete_registration"))]
    pub async fn complete_registration(
        &self,
        ctx: &Ctx<'_>,
        requested: &Registration,
        plans: &SerialPlans,
    ) -> Result<Registration, CompleteError> {
        let now = stored(ctx.now);
        let warranties: Vec<Option<Warranty>> = requested
            .line_items
            .iter()
            .map(|item| {
                let plan = plans.by_key(&item.serial_number.as_ref()?.to_ascii_lowercase())?;
                Warranty::new(plan, requested.purchase_date, now)
            })
            .collect();
        let completion = Completion::new(requested, &warranties, now)?;
        let written = match &self.db {
            Db::Postgres(pool) => bind_complete!(sqlx::query_scalar(COMPLETE_POSTGRES), ctx.org, completion)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from),
            Db::Sqlite(pools) => {
                let script = bind_complete!(sqlx::query(COMPLETE_SQLITE), ctx.org, completion);
                sqlite_write(pools, script).await.and_then(|rows| {
                    rows.first()
                        .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
                        .transpose()
                        .map_err(StoreError::from)
                })
            }
        };
        let id = &requested.id;
        let number = match written {
            Ok(number) => number,
            Err(err) if err.is_unique_violation() => {
                return Err(match self.held_elsewhere(ctx.org, requested).await? {
                    Some(serial_number) => CompleteError::SerialHeld { serial_number },
                    None => err.into(),
                });
            }
            Err(err) => return Err(err.into()),
        };
        let Some(number) = number else {
            return match self.get_attempt(ctx.org, id).await?.map(|a| a.state) {
                None | Some(AttemptState::Open) => Err(CompleteError::NotFound),
                Some(AttemptState::Failed) => Err(CompleteError::Failed),
                Some(AttemptState::Completed) => {
                    let registration = self.get_registration(ctx.org, id).await?;
                    registration.ok_or(CompleteError::NotFound)
                }
            };
        };
        Ok(completed(requested, number, warranties, now)?)
    }

    /// The first serial of `requested` (as it spells it) that another registration of `org`
    /// holds.
    async fn held_elsewhere(
        &self,
        org: &str,
        requested: &Registration,
    ) -> Result<Option<String>, StoreError> {
        let keys: Vec<String> = requested.serial_numbers().map(str::to_ascii_lowercase).collect();
        let keys = to_json(&keys)?;
        let [postgres, sqlite] = HELD_ELSEWHERE;
        let sql = self.db.pick(postgres, sqlite);
        let held: Option<String> = on_reader!(&self.db, c => sqlx::query_scalar(sql)
            .bind(org)
            .bind(&keys)
            .bind(requested.id.as_str())
            .fetch_optional(c))?;
        Ok(held.and_then(|key| {
            requested.serial_numbers().find(|s| s.eq_ignore_ascii_case(&key)).map(str::to_owned)
        }))
    }
}

/// `requested` as its completion at `now` with `number` and the line items' `warranties` wrote
/// it.
fn completed(
    requested: &Registration,
    number: String,
    warranties: Vec<Option<Warranty>>,
    now: DateTime<Utc>,
) -> Result<Registration, StoreError> {
    RegistrationNumber::parse(&number)
        .map_err(|err| StoreError::Corrupt(format!("number {number}: {err}")))?;
    let mut registration = requested.clone();
    registration.status = RegistrationStatus::Pending;
    registration.registration_number = Some(number);
    for (item, warranty) in registration.line_items.iter_mut().zip(warranties) {
        item.warranty = warranty;
    }
    registration.warranty = registration_warranty(&registration.line_items);
    registration.purchase_date = registration.purchase_date.map(stored);
    registration.email_marketing_consent_time = registration.email_marketing_consent_time.map(stored);
    registration.create_time = now;
    registration.update_time = now;
    Ok(registration)
}

/// Completes `completion` of `org` inside `tx` (see `complete_registration`): the number, or
/// `None` if the attempt was not open.
async fn complete_in(tx: &mut Tx, org: &str, completion: &Completion) -> Result<Option<String>, StoreError> {
    let number = match tx {
        Tx::Postgres(tx) => {
            bind_complete!(sqlx::query_scalar(COMPLETE_POSTGRES), org, completion)
                .fetch_optional(&mut **tx)
                .await?
        }
        Tx::Sqlite(tx) => {
            // Every row, so that the script runs to its end (its savepoint released).
            let rows =
                bind_complete!(sqlx::query(COMPLETE_SQLITE), org, completion).fetch_all(&mut **tx).await?;
            rows.first().map(<(String,)>::from_row).transpose()?.map(|(number,)| number)
        }
    };
    Ok(number)
}
