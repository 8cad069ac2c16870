//! `BatchCreateSerials`: set-based inserts, so a 10,000-serial batch is a handful of statements on
//! either backend (one COPY on PostgreSQL, see [`super::batch_copy`]; a dozen on SQLite, see
//! [`super::batch_sqlite`]). Conflicts with existing serials are skipped by `ON CONFLICT DO
//! NOTHING` and reported per item. The created serials are answered from what was inserted
//! (their times truncated to the stored microseconds) rather than read back: reading 10,000 rows
//! back cost more than inserting them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use sqlx::Row as _;

use super::{Store, Tx, on_tx, request_keys::begin_write, rows::micros};
use crate::domain::{
    BatchCreateError, BatchOutcome, Ctx, ItemError, ItemReason, NewSerial, RequestKey, Serial, StoreError,
    ValidityWindow,
};

const PRODUCTS_POSTGRES: &str = "SELECT sku, warranty_plan_id FROM products \
     WHERE org_id = $1 AND sku IN (SELECT jsonb_array_elements_text(CAST($2 AS TEXT)::jsonb))";
const PRODUCTS_SQLITE: &str = "SELECT sku, warranty_plan_id FROM products WHERE org_id = $1 AND sku IN (SELECT value FROM json_each($2))";
const PLANS_POSTGRES: &str = "SELECT id FROM warranty_plans \
     WHERE org_id = $1 AND id IN (SELECT jsonb_array_elements_text(CAST($2 AS TEXT)::jsonb))";
const PLANS_SQLITE: &str =
    "SELECT id FROM warranty_plans WHERE org_id = $1 AND id IN (SELECT value FROM json_each($2))";

/// The serials of a batch that do not exist yet, each its own `created` event (`created_by` and
/// `create_time`), from one typed array per column; returns how many were inserted and, only
/// when some already existed, the keys inserted (`$12` is the batch's size, `$13` the import
/// job creating them, if any).
const INSERT_POSTGRES: &str = "WITH inserted AS (\
     INSERT INTO serials (org_id, serial_number, serial_key, product_sku, warranty_plan_id, \
     valid_from, valid_until, register_until, customer_tags, create_time, update_time, created_by, import_job) \
     SELECT $1, x.n, x.k, x.p, x.w, x.f, x.u, x.r, x.t, $2, $2, $3, $13 \
     FROM UNNEST(CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[]), CAST($7 AS TEXT[]), \
     CAST($8 AS BIGINT[]), CAST($9 AS BIGINT[]), CAST($10 AS BIGINT[]), CAST($11 AS TEXT[])) \
     AS x(n, k, p, w, f, u, r, t) \
     ON CONFLICT (org_id, serial_key) DO NOTHING RETURNING serial_key) \
     SELECT count(*), CASE WHEN count(*) < $12 THEN array_agg(serial_key) END FROM inserted";

/// The catalog references of a batch: each known SKU with its default plan, and known plans.
pub(super) struct Catalog {
    products: HashMap<String, Option<String>>,
    plans: HashSet<String>,
}

pub(super) async fn catalog<'a>(
    tx: &mut Tx,
    org: &str,
    serials: impl Iterator<Item = &'a NewSerial> + Clone,
) -> Result<Catalog, sqlx::Error> {
    let skus: HashSet<&str> =
        serials.clone().filter_map(|s| s.product_sku.as_ref().map(|p| p.as_str())).collect();
    let mut products = HashMap::new();
    if !skus.is_empty() {
        let sql = tx.pick(PRODUCTS_POSTGRES, PRODUCTS_SQLITE);
        let list = json!(skus).to_string();
        let rows: Vec<(String, Option<String>)> =
            on_tx!(tx, c => sqlx::query_as(sql).bind(org).bind(&list).fetch_all(c))?;
        products.extend(rows);
    }
    let plan_ids: HashSet<&str> =
        serials.filter_map(|s| s.warranty_plan_id.as_ref().map(|p| p.as_str())).collect();
    let mut plans = HashSet::new();
    if !plan_ids.is_empty() {
        let sql = tx.pick(PLANS_POSTGRES, PLANS_SQLITE);
        let list = json!(plan_ids).to_string();
        let rows: Vec<String> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(org).bind(&list).fetch_all(c))?;
        plans.extend(rows);
    }
    Ok(Catalog { products, plans })
}

fn item_error(index: usize, serial: &NewSerial, reason: ItemReason, message: String) -> ItemError {
    ItemError { index, serial_number: serial.number.as_str().to_owned(), reason, message }
}

/// A serial to insert, with the warranty plan it gets.
pub(super) struct Row<'a> {
    pub index: usize,
    pub serial: &'a NewSerial,
    pub plan: Option<&'a str>,
}

impl Row<'_> {
    /// The serial as inserted at `now` and as a read would return it (times in microseconds).
    fn created(&self, now: DateTime<Utc>) -> Serial {
        let serial = self.serial;
        let stored = |time: Option<DateTime<Utc>>| time.map(|time| time.trunc_subsecs(6));
        Serial {
            serial_number: serial.number.as_str().to_owned(),
            product_sku: serial.product_sku.as_ref().map(|sku| sku.as_str().to_owned()),
            warranty_plan_id: self.plan.map(str::to_owned),
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
}

/// The plan of `serial`: its own, else its product's, or why the catalog refuses it.
pub(super) fn resolve<'a>(
    index: usize,
    serial: &'a NewSerial,
    catalog: &'a Catalog,
) -> Result<Option<&'a str>, ItemError> {
    let mut plan = serial.warranty_plan_id.as_ref().map(|p| p.as_str());
    if let Some(sku) = &serial.product_sku {
        let Some(default_plan) = catalog.products.get(sku.as_str()) else {
            let message = format!("serials[{index}].product_sku: no product {sku} in the catalog");
            return Err(item_error(index, serial, ItemReason::UnknownProductSku, message));
        };
        plan = plan.or(default_plan.as_deref());
    }
    if let Some(id) = &serial.warranty_plan_id
        && !catalog.plans.contains(id.as_str())
    {
        let message = format!("serials[{index}].warranty_plan_id: no warranty plan {id}");
        return Err(item_error(index, serial, ItemReason::UnknownWarrantyPlan, message));
    }
    Ok(plan)
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
        let catalog = catalog(&mut write.tx, ctx.org, items.iter().map(|(_, serial)| serial)).await?;
        let mut errors = Vec::new();
        let mut rows = Vec::with_capacity(items.len());
        for (index, serial) in &items {
            match resolve(*index, serial, &catalog) {
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
                outcome.created.push(row.created(now));
            } else {
                let message =
                    format!("serials[{}].serial_number: {} already exists", row.index, row.serial.number);
                outcome.errors.push(item_error(row.index, row.serial, ItemReason::AlreadyExists, message));
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

/// Which of the rows given to [`insert`] it inserted: the others already existed.
pub(super) enum Inserted {
    All,
    Only(HashSet<String>),
}

impl Inserted {
    pub(super) fn contains(&self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(keys) => keys.contains(key),
        }
    }
}

fn encode_error(err: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(err))
}

/// Inserts the rows that do not exist yet, with a `created` event for each: on PostgreSQL in one
/// statement, on SQLite in [`super::batch_sqlite`]. `import_job` is the import job creating them.
pub(super) async fn insert(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    rows: &[Row<'_>],
    import_job: Option<&str>,
) -> Result<Inserted, sqlx::Error> {
    let now = micros(ctx.now);
    let tags = rows
        .iter()
        .map(|row| serde_json::to_string(row.serial.customer_tags.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(encode_error)?;
    let tx = match tx {
        Tx::Postgres(tx) => tx,
        Tx::Sqlite(tx) => return super::batch_sqlite::insert(tx, ctx, rows, &tags, import_job).await,
    };
    // Most batches are all new: COPY them ([`super::batch_copy`]). A batch that meets an
    // existing serial rolls back to the savepoint and inserts around the conflicts.
    sqlx::query("SAVEPOINT new_serials").execute(&mut **tx).await?;
    match super::batch_copy::insert(tx, ctx, rows, &tags, import_job).await {
        Ok(()) => return Ok(Inserted::All),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            sqlx::query("ROLLBACK TO SAVEPOINT new_serials").execute(&mut **tx).await?;
        }
        Err(err) => return Err(err),
    }
    let window = |time: fn(&ValidityWindow) -> Option<DateTime<Utc>>| -> Vec<Option<i64>> {
        rows.iter().map(|row| time(&row.serial.window).map(micros)).collect()
    };
    let numbers: Vec<&str> = rows.iter().map(|row| row.serial.number.as_str()).collect();
    let keys: Vec<&str> = rows.iter().map(|row| row.serial.number.key()).collect();
    let skus: Vec<Option<&str>> =
        rows.iter().map(|row| row.serial.product_sku.as_ref().map(|s| s.as_str())).collect();
    let plans: Vec<Option<&str>> = rows.iter().map(|row| row.plan).collect();
    let (valid_from, valid_until, register_until) =
        (window(|w| w.valid_from), window(|w| w.valid_until), window(|w| w.register_until));
    let size = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let answer = sqlx::query(INSERT_POSTGRES)
        .bind(ctx.org)
        .bind(now)
        .bind(ctx.actor)
        .bind(&numbers)
        .bind(&keys)
        .bind(&skus)
        .bind(&plans)
        .bind(&valid_from)
        .bind(&valid_until)
        .bind(&register_until)
        .bind(&tags)
        .bind(size)
        .bind(import_job)
        .fetch_one(&mut **tx)
        .await?;
    let (count, inserted): (i64, Option<Vec<String>>) = (answer.try_get(0)?, answer.try_get(1)?);
    Ok(if count as usize == rows.len() {
        Inserted::All
    } else {
        Inserted::Only(inserted.unwrap_or_default().into_iter().collect())
    })
}
