//! `BatchCreateSerials`' transaction: the batch's catalog references read, each item given its
//! plan or refused, the new serials inserted ([`super::insert`]) and those that existed
//! reported per item. The created serials are answered from what was inserted (their times
//! truncated to the stored microseconds) rather than read back: reading 10,000 rows back cost
//! more than inserting them.

use chrono::{DateTime, SubsecRound, Utc};

use super::insert::{Inserted, Row, insert};
use crate::domain::{
    BatchCreateError, BatchOutcome, Ctx, ItemError, ItemReason, NewSerial, RequestKey, Serial, StoreError,
    ValidityWindow,
};
use crate::store::{Store, catalog, request_keys::begin_write};

/// `row` as inserted at `now` and as a read would return it (times in microseconds).
fn created(row: &Row<'_>, now: DateTime<Utc>) -> Serial {
    let serial = row.serial;
    let stored = |time: Option<DateTime<Utc>>| time.map(|time| time.trunc_subsecs(6));
    Serial {
        serial_number: serial.number.as_str().to_owned(),
        product_sku: serial.product_sku.as_ref().map(|sku| sku.as_str().to_owned()),
        warranty_plan_id: row.plan.map(str::to_owned),
        window: ValidityWindow {
            valid_from: stored(serial.window.valid_from),
            valid_until: stored(serial.window.valid_until),
            register_until: stored(serial.window.register_until),
        },
        customer_tags: serial.customer_tags.as_slice().to_vec(),
        claimant: None,
        revoke_reason: None,
        create_time: now,
        update_time: now,
        claim_time: None,
        revoke_time: None,
        allocate_time: None,
    }
}

impl Store {
    /// Creates `items` (already valid and free of repeats). Without `atomic`, each item is created
    /// or reported alone; with it, any failure rejects the whole batch and nothing is written.
    ///
    /// The batch is written by a task of its own, so a caller that goes away (a deadline, a
    /// client hanging up) does not cut it short: it commits or fails whole either way, and its
    /// connection is never given back in the middle of a statement. sqlx cannot recover a
    /// PostgreSQL connection whose COPY was dropped half-way: the calls that got it next failed
    /// (`BeginFailed`; tested by the conformance suite's caller that goes away).
    #[doc(alias = "BatchCreateSerials")]
    #[tracing::instrument(name = "db", target = "regserial_spans", skip_all, fields(otel.name = "create_serials", otel.kind = "client", db.system = self.db.system(), db.operation = "create_serials"))]
    pub async fn create_serials(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        items: Vec<(usize, NewSerial)>,
        atomic: bool,
    ) -> Result<BatchOutcome, BatchCreateError> {
        let (store, org, actor, now, key) =
            (self.clone(), ctx.org.to_owned(), ctx.actor.to_owned(), ctx.now, key.copied());
        let write = tokio::spawn(async move {
            let ctx = Ctx { org: &org, actor: &actor, now };
            store.write_serials(&ctx, key.as_ref(), items, atomic).await
        });
        write.await.unwrap_or_else(|err| {
            Err(StoreError::Corrupt(format!("the task writing the batch stopped: {err}")).into())
        })
    }

    async fn write_serials(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        mut items: Vec<(usize, NewSerial)>,
        atomic: bool,
    ) -> Result<BatchOutcome, BatchCreateError> {
        let mut write = begin_write!(&self.db, ctx, key);
        // One global insert order, so concurrent overlapping batches wait on each other's keys
        // in the same order and cannot deadlock on PostgreSQL.
        items.sort_unstable_by(|(_, a), (_, b)| a.number.key().cmp(b.number.key()));
        let refs = catalog::refs(&mut write.tx, ctx.org, items.iter().map(|(_, serial)| serial)).await?;
        let mut errors = Vec::new();
        let mut rows = Vec::with_capacity(items.len());
        for (index, serial) in &items {
            match refs.resolve(*index, serial) {
                Ok(plan) => rows.push(Row { index: *index, serial, plan }),
                Err(error) => errors.push(error),
            }
        }
        if atomic && !errors.is_empty() {
            return Err(BatchCreateError::Rejected { errors });
        }
        let inserted =
            if rows.is_empty() { Inserted::All } else { insert(&mut write.tx, ctx, &rows, None).await? };
        let now = ctx.now.trunc_subsecs(6);
        let mut outcome = BatchOutcome { created: Vec::with_capacity(rows.len()), errors };
        for row in &rows {
            if inserted.contains(row.serial.number.key()) {
                outcome.created.push(created(row, now));
            } else {
                let message =
                    format!("serials[{}].serial_number: {} already exists", row.index, row.serial.number);
                outcome.errors.push(ItemError::new(
                    row.index,
                    row.serial,
                    ItemReason::AlreadyExists,
                    message,
                ));
            }
        }
        if atomic && !outcome.errors.is_empty() {
            return Err(BatchCreateError::Rejected { errors: outcome.errors });
        }
        outcome.errors.sort_unstable_by_key(|e| e.index);
        write.commit(&outcome).await?;
        Ok(outcome)
    }
}
