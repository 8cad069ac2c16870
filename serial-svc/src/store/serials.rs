//! `serials`: the row, and the single-serial state changes (claim, release, allocate, revoke),
//! each a conditional `UPDATE … RETURNING` with its event in the same transaction. Reads are in
//! [`reads`], the bulk insert in [`create`] and [`insert`].

mod create;
mod filters;
pub(super) mod insert;
mod reads;

use super::{Store, Tx, micros, on_tx, opt_time, request_keys::begin_write, serial_events, time};
use crate::domain::{
    AllocateError, ClaimError, Claimant, Ctx, EventKind, InvalidReason, ReleaseError, RequestKey,
    RevokeError, Serial, SerialNumber, Sku, StoreError, ValidityWindow,
};
use filters::{ALLOCATE_ANY, ALLOCATE_SKU};
pub(super) use reads::{Lookups, lookups};

/// The columns of a `serials` row, in [`SerialRow`]'s order, for `concat!`.
macro_rules! serial_columns {
    () => {
        "id, serial_number, product_sku, warranty_plan_id, valid_from, valid_until, register_until, \
         customer_tags, claimant, claim_time, allocate_time, revoke_time, revoke_reason, create_time, update_time"
    };
}
use serial_columns;

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct SerialRow {
    id: i64,
    serial_number: String,
    product_sku: Option<String>,
    warranty_plan_id: Option<String>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    register_until: Option<i64>,
    customer_tags: String,
    claimant: Option<String>,
    claim_time: Option<i64>,
    allocate_time: Option<i64>,
    revoke_time: Option<i64>,
    revoke_reason: Option<String>,
    create_time: i64,
    update_time: i64,
}

impl SerialRow {
    /// The row's id (the list cursor) and the serial.
    fn into_domain(self) -> Result<(i64, Serial), StoreError> {
        let customer_tags = serde_json::from_str(&self.customer_tags)
            .map_err(|err| StoreError::Corrupt(format!("customer_tags of serial {}: {err}", self.id)))?;
        let serial = Serial {
            serial_number: self.serial_number,
            product_sku: self.product_sku,
            warranty_plan_id: self.warranty_plan_id,
            window: ValidityWindow {
                valid_from: opt_time(self.valid_from)?,
                valid_until: opt_time(self.valid_until)?,
                register_until: opt_time(self.register_until)?,
            },
            customer_tags,
            claimant: self.claimant,
            revoke_reason: self.revoke_reason,
            create_time: time(self.create_time)?,
            update_time: time(self.update_time)?,
            claim_time: opt_time(self.claim_time)?,
            revoke_time: opt_time(self.revoke_time)?,
            allocate_time: opt_time(self.allocate_time)?,
        };
        Ok((self.id, serial))
    }
}

/// How often a claim whose conditional update lost a race is re-tried before it is refused.
const CLAIM_ATTEMPTS: usize = 3;

const BY_KEY: &str =
    concat!("SELECT ", serial_columns!(), " FROM serials WHERE org_id = $1 AND serial_key = $2");

const CLAIM: &str = concat!(
    "UPDATE serials SET claimant = $3, claim_time = $4, update_time = $4 \
     WHERE org_id = $1 AND serial_key = $2 AND claimant IS NULL AND revoke_time IS NULL \
     AND (valid_from IS NULL OR valid_from <= $4) AND (valid_until IS NULL OR valid_until > $4) \
     AND (register_until IS NULL OR register_until > $4) RETURNING ",
    serial_columns!()
);

const RELEASE: &str = concat!(
    "UPDATE serials SET claimant = NULL, claim_time = NULL, update_time = $4 \
     WHERE org_id = $1 AND serial_key = $2 AND claimant = $3 RETURNING ",
    serial_columns!()
);

const REVOKE: &str = concat!(
    "UPDATE serials SET revoke_reason = $3, revoke_time = $4, update_time = $4 \
     WHERE org_id = $1 AND serial_key = $2 AND revoke_time IS NULL RETURNING ",
    serial_columns!()
);

async fn by_key(tx: &mut Tx, org: &str, number: &SerialNumber) -> Result<Option<(i64, Serial)>, StoreError> {
    let row: Option<SerialRow> =
        on_tx!(tx, c => sqlx::query_as(BY_KEY).bind(org).bind(number.key()).fetch_optional(c))?;
    row.map(SerialRow::into_domain).transpose()
}

/// Runs `sql`, a conditional update of serial `number` taking `$3` (`text`) and `$4` (the time):
/// the serial as updated, or `None` when the condition did not hold.
async fn update(
    tx: &mut Tx,
    sql: &'static str,
    ctx: &Ctx<'_>,
    number: &SerialNumber,
    text: &str,
) -> Result<Option<(i64, Serial)>, StoreError> {
    let row: Option<SerialRow> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(ctx.org)
        .bind(number.key())
        .bind(text)
        .bind(micros(ctx.now))
        .fetch_optional(c))?;
    row.map(SerialRow::into_domain).transpose()
}

impl Store {
    /// ACTIVE -> REGISTERED for `claimant`, in one conditional update; the same claimant again
    /// gets the serial back unchanged.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "claim_serial", otel.kind = "client", db.system = self.db.system(), db.operation = "claim_serial"))]
    pub async fn claim_serial(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        number: &SerialNumber,
        claimant: &Claimant,
    ) -> Result<Serial, ClaimError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let mut attempts = 0;
        let serial = loop {
            attempts += 1;
            if let Some((id, serial)) = update(&mut write.tx, CLAIM, ctx, number, claimant.as_str()).await? {
                serial_events::record(
                    &mut write.tx,
                    ctx,
                    id,
                    EventKind::Claimed,
                    Some(claimant.as_str()),
                    None,
                )
                .await?;
                break serial;
            }
            let (_, current) = by_key(&mut write.tx, ctx.org, number).await?.ok_or(ClaimError::NotFound)?;
            match current.claim_refusal(Some(claimant.as_str()), ctx.now) {
                Some(reason) => return Err(ClaimError::Refused(reason)),
                None if current.claimant.as_deref() == Some(claimant.as_str()) => break current,
                // Released between our update and our read (PostgreSQL, read committed): again.
                None if attempts < CLAIM_ATTEMPTS => continue,
                None => return Err(ClaimError::Refused(InvalidReason::AlreadyRegistered)),
            }
        };
        write.commit(&serial).await?;
        Ok(serial)
    }

    /// REGISTERED -> ACTIVE, only by the claimant holding it; releasing a free serial is a no-op.
    /// With `replaced_by` the history records a swap to that serial instead of a release.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "release_serial", otel.kind = "client", db.system = self.db.system(), db.operation = "release_serial"))]
    pub async fn release_serial(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        number: &SerialNumber,
        claimant: &Claimant,
        replaced_by: Option<&SerialNumber>,
    ) -> Result<Serial, ReleaseError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let serial = match update(&mut write.tx, RELEASE, ctx, number, claimant.as_str()).await? {
            Some((id, serial)) => {
                let (kind, detail) = match replaced_by {
                    Some(new) => (EventKind::Swapped, Some(new.as_str())),
                    None => (EventKind::Released, None),
                };
                serial_events::record(&mut write.tx, ctx, id, kind, Some(claimant.as_str()), detail).await?;
                serial
            }
            None => {
                let (_, current) =
                    by_key(&mut write.tx, ctx.org, number).await?.ok_or(ReleaseError::NotFound)?;
                if current.claimant.is_some() {
                    return Err(ReleaseError::NotClaimant);
                }
                current
            }
        };
        write.commit(&serial).await?;
        Ok(serial)
    }

    /// Marks an available serial as handed out (and claims it for `claimant` if given); no two
    /// callers ever get the same serial.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "allocate_serial", otel.kind = "client", db.system = self.db.system(), db.operation = "allocate_serial"))]
    pub async fn allocate_serial(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        product_sku: Option<&Sku>,
        claimant: Option<&Claimant>,
    ) -> Result<Serial, AllocateError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let [postgres, sqlite] = if product_sku.is_some() { ALLOCATE_SKU } else { ALLOCATE_ANY };
        let sql = write.tx.pick(postgres, sqlite);
        let claimant = claimant.map(Claimant::as_str);
        let allocated: Option<SerialRow> = on_tx!(&mut write.tx, c => {
            let mut query = sqlx::query_as(sql).bind(ctx.org);
            if let Some(sku) = product_sku {
                query = query.bind(sku.as_str());
            }
            query.bind(micros(ctx.now)).bind(claimant).fetch_optional(c)
        })?;
        let (id, serial) = allocated.ok_or(AllocateError::NoneAvailable)?.into_domain()?;
        serial_events::record(&mut write.tx, ctx, id, EventKind::Allocated, claimant, None).await?;
        if claimant.is_some() {
            serial_events::record(&mut write.tx, ctx, id, EventKind::Claimed, claimant, None).await?;
        }
        write.commit(&serial).await?;
        Ok(serial)
    }

    /// -> REVOKED whatever the serial was; revoking again returns it unchanged.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "revoke_serial", otel.kind = "client", db.system = self.db.system(), db.operation = "revoke_serial"))]
    pub async fn revoke_serial(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        number: &SerialNumber,
        reason: &str,
    ) -> Result<Serial, RevokeError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let serial = match update(&mut write.tx, REVOKE, ctx, number, reason).await? {
            Some((id, serial)) => {
                let holder = serial.claimant.as_deref();
                serial_events::record(&mut write.tx, ctx, id, EventKind::Revoked, holder, Some(reason))
                    .await?;
                serial
            }
            None => by_key(&mut write.tx, ctx.org, number).await?.ok_or(RevokeError::NotFound)?.1,
        };
        write.commit(&serial).await?;
        Ok(serial)
    }
}
