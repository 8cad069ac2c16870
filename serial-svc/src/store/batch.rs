//! `BatchCreateSerials`: one set-based insert per batch. The rows travel as one JSON parameter
//! (`json_each` on SQLite, `jsonb_to_recordset` on PostgreSQL), so a 10,000-serial batch is a
//! handful of statements on either backend. Conflicts with existing serials are skipped by
//! `ON CONFLICT DO NOTHING` and reported per item.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use futures::TryFutureExt;

use super::{
    Store, Tx, on_tx,
    request_keys::begin_write,
    rows::{SerialRow, micros, serial_columns},
};
use crate::domain::{
    BatchCreateError, BatchOutcome, Ctx, ItemError, ItemReason, NewSerial, RequestKey, Serial, StoreError,
};

const PRODUCTS_POSTGRES: &str = "SELECT sku, warranty_plan_id FROM products \
     WHERE org_id = $1 AND sku IN (SELECT jsonb_array_elements_text(CAST($2 AS TEXT)::jsonb))";
const PRODUCTS_SQLITE: &str = "SELECT sku, warranty_plan_id FROM products WHERE org_id = $1 AND sku IN (SELECT value FROM json_each($2))";
const PLANS_POSTGRES: &str = "SELECT id FROM warranty_plans \
     WHERE org_id = $1 AND id IN (SELECT jsonb_array_elements_text(CAST($2 AS TEXT)::jsonb))";
const PLANS_SQLITE: &str =
    "SELECT id FROM warranty_plans WHERE org_id = $1 AND id IN (SELECT value FROM json_each($2))";

const INSERT_POSTGRES: &str = concat!(
    "INSERT INTO serials (org_id, serial_number, serial_key, product_sku, warranty_plan_id, \
     valid_from, valid_until, register_until, customer_tags, create_time, update_time) \
     SELECT $1, x.n, x.k, x.p, x.w, x.f, x.u, x.r, x.t, $2, $2 \
     FROM jsonb_to_recordset(CAST($3 AS TEXT)::jsonb) AS x(n text, k text, p text, w text, f bigint, u bigint, r bigint, t text) \
     ON CONFLICT (org_id, serial_key) DO NOTHING RETURNING ",
    serial_columns!()
);
const INSERT_SQLITE: &str = concat!(
    "INSERT INTO serials (org_id, serial_number, serial_key, product_sku, warranty_plan_id, \
     valid_from, valid_until, register_until, customer_tags, create_time, update_time) \
     SELECT $1, j.value ->> 'n', j.value ->> 'k', j.value ->> 'p', j.value ->> 'w', \
     j.value ->> 'f', j.value ->> 'u', j.value ->> 'r', j.value ->> 't', $2, $2 \
     FROM json_each($3) AS j WHERE true \
     ON CONFLICT (org_id, serial_key) DO NOTHING RETURNING ",
    serial_columns!()
);

const EVENTS_POSTGRES: &str = "INSERT INTO serial_events (org_id, serial_id, kind, actor, event_time) \
     SELECT $1, CAST(x AS BIGINT), 'created', $2, $3 FROM jsonb_array_elements_text(CAST($4 AS TEXT)::jsonb) AS x";
const EVENTS_SQLITE: &str = "INSERT INTO serial_events (org_id, serial_id, kind, actor, event_time) \
     SELECT $1, j.value, 'created', $2, $3 FROM json_each($4) AS j";

/// The catalog references of a batch: each known SKU with its default plan, and known plans.
struct Catalog {
    products: HashMap<String, Option<String>>,
    plans: HashSet<String>,
}

async fn catalog(tx: &mut Tx, org: &str, items: &[(usize, NewSerial)]) -> Result<Catalog, sqlx::Error> {
    let skus: HashSet<&str> =
        items.iter().filter_map(|(_, s)| s.product_sku.as_ref().map(|p| p.as_str())).collect();
    let mut products = HashMap::new();
    if !skus.is_empty() {
        let sql = tx.pick(PRODUCTS_POSTGRES, PRODUCTS_SQLITE);
        let list = json!(skus).to_string();
        let rows: Vec<(String, Option<String>)> =
            on_tx!(tx, c => sqlx::query_as(sql).bind(org).bind(&list).fetch_all(c))?;
        products.extend(rows);
    }
    let plan_ids: HashSet<&str> =
        items.iter().filter_map(|(_, s)| s.warranty_plan_id.as_ref().map(|p| p.as_str())).collect();
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

/// The row to insert for `serial`, with the product's plan when the serial names none, or why
/// the catalog refuses it.
fn resolve(index: usize, serial: &NewSerial, catalog: &Catalog) -> Result<serde_json::Value, ItemError> {
    let mut plan = serial.warranty_plan_id.as_ref().map(|p| p.as_str().to_owned());
    if let Some(sku) = &serial.product_sku {
        let Some(default_plan) = catalog.products.get(sku.as_str()) else {
            let message = format!("serials[{index}].product_sku: no product {sku} in the catalog");
            return Err(item_error(index, serial, ItemReason::UnknownProductSku, message));
        };
        plan = plan.or_else(|| default_plan.clone());
    } else if let Some(id) = &serial.warranty_plan_id
        && !catalog.plans.contains(id.as_str())
    {
        let message = format!("serials[{index}].warranty_plan_id: no warranty plan {id}");
        return Err(item_error(index, serial, ItemReason::UnknownWarrantyPlan, message));
    }
    if let Some(id) = &serial.warranty_plan_id
        && !catalog.plans.contains(id.as_str())
    {
        let message = format!("serials[{index}].warranty_plan_id: no warranty plan {id}");
        return Err(item_error(index, serial, ItemReason::UnknownWarrantyPlan, message));
    }
    let window = &serial.window;
    Ok(json!({
        "n": serial.number.as_str(),
        "k": serial.number.key(),
        "p": serial.product_sku.as_ref().map(|s| s.as_str()),
        "w": plan,
        "f": window.valid_from.map(micros),
        "u": window.valid_until.map(micros),
        "r": window.register_until.map(micros),
        "t": json!(serial.customer_tags.as_slice()).to_string(),
    }))
}

impl Store {
    /// Creates `items` (already valid and free of repeats). Without `atomic`, each item is created
    /// or reported alone; with it, any failure rejects the whole batch and nothing is written.
    pub async fn create_serials(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        mut items: Vec<(usize, NewSerial)>,
        atomic: bool,
    ) -> Result<BatchOutcome, BatchCreateError> {
        let mut write = begin_write!(self, ctx, key);
        // One global insert order, so concurrent overlapping batches wait on each other's keys
        // in the same order and cannot deadlock on PostgreSQL.
        items.sort_unstable_by(|(_, a), (_, b)| a.number.key().cmp(b.number.key()));
        let catalog = catalog(&mut write.tx, ctx.org, &items).await?;
        let mut errors = Vec::new();
        let mut rows = Vec::with_capacity(items.len());
        for (index, serial) in &items {
            match resolve(*index, serial, &catalog) {
                Ok(row) => rows.push(row),
                Err(error) => errors.push(error),
            }
        }
        if atomic && !errors.is_empty() {
            return Err(BatchCreateError::Rejected { errors });
        }
        let created = if rows.is_empty() { Vec::new() } else { insert(&mut write.tx, ctx, rows).await? };
        let mut by_key: HashMap<String, Serial> =
            created.into_iter().map(|serial| (serial.serial_number.to_ascii_lowercase(), serial)).collect();
        let mut outcome = BatchOutcome { created: Vec::with_capacity(by_key.len()), errors };
        for (index, serial) in items {
            if outcome.errors.iter().any(|e| e.index == index) {
                continue;
            }
            match by_key.remove(serial.number.key()) {
                Some(created) => outcome.created.push(created),
                None => {
                    let message = format!("serials[{index}].serial_number: {} already exists", serial.number);
                    outcome.errors.push(item_error(index, &serial, ItemReason::AlreadyExists, message));
                }
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

/// Inserts the rows, records a `created` event for each serial inserted, and returns those.
async fn insert(tx: &mut Tx, ctx: &Ctx<'_>, rows: Vec<serde_json::Value>) -> Result<Vec<Serial>, StoreError> {
    let now = micros(ctx.now);
    let payload = serde_json::Value::Array(rows).to_string();
    let sql = tx.pick(INSERT_POSTGRES, INSERT_SQLITE);
    let inserted: Vec<SerialRow> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(ctx.org).bind(now).bind(&payload).fetch_all(c))?;
    let ids: Vec<i64> = inserted.iter().map(|row| row.id).collect();
    if !ids.is_empty() {
        let sql = tx.pick(EVENTS_POSTGRES, EVENTS_SQLITE);
        let ids = json!(ids).to_string();
        on_tx!(tx, c => sqlx::query(sql).bind(ctx.org).bind(ctx.actor).bind(now).bind(&ids).execute(c).map_ok(drop))?;
    }
    inserted.into_iter().map(|row| row.into_domain().map(|(_, serial)| serial)).collect()
}
