//! Reading serials and the single-serial state changes: claim, release, allocate, revoke.

use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use super::{
    Store, Tx, events,
    filtered_sql::{ALLOCATE_ANY, ALLOCATE_SKU, list_statement},
    on_reader, on_tx,
    request_keys::begin_write,
    rows::{SerialRow, all, micros, serial_columns},
};
use crate::domain::{
    AllocateError, ClaimError, Claimant, Ctx, EventKind, ReleaseError, RequestKey, RevokeError, Serial,
    SerialFilter, SerialNumber, Sku, StoreError,
};

/// How often a claim whose conditional update lost a race is re-tried before it is refused.
const CLAIM_ATTEMPTS: usize = 3;

pub(super) const BY_KEY: &str =
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
    "UPDATE serials SET revoke_time = $3, revoke_reason = $4, update_time = $3 \
     WHERE org_id = $1 AND serial_key = $2 AND revoke_time IS NULL RETURNING ",
    serial_columns!()
);

async fn by_key(tx: &mut Tx, org: &str, number: &SerialNumber) -> Result<Option<(i64, Serial)>, StoreError> {
    let row: Option<SerialRow> =
        on_tx!(tx, c => sqlx::query_as(BY_KEY).bind(org).bind(number.key()).fetch_optional(c))?;
    row.map(SerialRow::into_domain).transpose()
}

impl Store {
    /// One serial, read with the other lookups in flight (see [`super::lookup`]).
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "get_serial", otel.kind = "client", db.system = self.db.system(), db.operation = "get_serial"))]
    pub async fn get_serial(&self, org: &str, number: &SerialNumber) -> Result<Option<Serial>, StoreError> {
        let row = self.lookups.get(org, number.key()).await?;
        Ok(row.map(SerialRow::into_domain).transpose()?.map(|(_, serial)| serial))
    }

    /// Serials after cursor `after_id` in creation order, with their cursors; `status` is the
    /// status at `now`.
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "list_serials", otel.kind = "client", db.system = self.db.system(), db.operation = "list_serials"))]
    pub async fn list_serials(
        &self,
        org: &str,
        filter: &SerialFilter,
        after_id: Option<i64>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, Serial)>, StoreError> {
        let statement = list_statement(filter);
        let sku = filter.product_sku.as_ref().map(Sku::as_str);
        let now = Some(micros(now)).filter(|_| statement.now);
        let rows: Vec<SerialRow> = on_reader!(&self.db, c => {
            let mut query = sqlx::query_as(AssertSqlSafe(statement.sql)).bind(org).bind(after_id.unwrap_or(0));
            if let Some(sku) = sku {
                query = query.bind(sku);
            }
            if let Some(now) = now {
                query = query.bind(now);
            }
            query.bind(i64::from(limit)).fetch_all(c)
        })?;
        all(rows, SerialRow::into_domain)
    }

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
            let claimed: Option<SerialRow> = on_tx!(&mut write.tx, c => sqlx::query_as(CLAIM)
                .bind(ctx.org)
                .bind(number.key())
                .bind(claimant.as_str())
                .bind(micros(ctx.now))
                .fetch_optional(c))?;
            if let Some(row) = claimed {
                let (id, serial) = row.into_domain()?;
                events::record(&mut write.tx, ctx, id, EventKind::Claimed, Some(claimant.as_str()), None)
                    .await?;
                break serial;
            }
            let (_, current) = by_key(&mut write.tx, ctx.org, number).await?.ok_or(ClaimError::NotFound)?;
            match current.claim_refusal(Some(claimant.as_str()), ctx.now) {
                Some(reason) => return Err(ClaimError::Refused(reason)),
                None if current.claimant.as_deref() == Some(claimant.as_str()) => break current,
                // Released between our update and our read (PostgreSQL, read committed): again.
                None if attempts < CLAIM_ATTEMPTS => continue,
                None => return Err(ClaimError::Refused(crate::domain::InvalidReason::AlreadyRegistered)),
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
        let released: Option<SerialRow> = on_tx!(&mut write.tx, c => sqlx::query_as(RELEASE)
            .bind(ctx.org)
            .bind(number.key())
            .bind(claimant.as_str())
            .bind(micros(ctx.now))
            .fetch_optional(c))?;
        let serial = match released {
            Some(row) => {
                let (id, serial) = row.into_domain()?;
                let (kind, detail) = match replaced_by {
                    Some(new) => (EventKind::Swapped, Some(new.as_str())),
                    None => (EventKind::Released, None),
                };
                events::record(&mut write.tx, ctx, id, kind, Some(claimant.as_str()), detail).await?;
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
        events::record(&mut write.tx, ctx, id, EventKind::Allocated, claimant, None).await?;
        if claimant.is_some() {
            events::record(&mut write.tx, ctx, id, EventKind::Claimed, claimant, None).await?;
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
        let revoked: Option<SerialRow> = on_tx!(&mut write.tx, c => sqlx::query_as(REVOKE)
            .bind(ctx.org)
            .bind(number.key())
            .bind(micros(ctx.now))
            .bind(reason)
            .fetch_optional(c))?;
        let serial = match revoked {
            Some(row) => {
                let (id, serial) = row.into_domain()?;
                let holder = serial.claimant.as_deref();
                events::record(&mut write.tx, ctx, id, EventKind::Revoked, holder, Some(reason)).await?;
                serial
            }
            None => by_key(&mut write.tx, ctx.org, number).await?.ok_or(RevokeError::NotFound)?.1,
        };
        write.commit(&serial).await?;
        Ok(serial)
    }
}
