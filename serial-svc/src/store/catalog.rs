//! `products` and `warranty_plans`: the catalog. Catalog entries are never deleted, so a
//! reference checked inside a write transaction stays valid until it commits (the foreign keys
//! back that up).

use std::collections::HashSet;

use serde_json::json;

use super::{Store, Tx, all, micros, on_reader, on_tx, request_keys::begin_write, time};
use crate::domain::{
    CatalogRefs, CreatePlanError, CreateProductError, Ctx, NewProduct, NewSerial, NewWarrantyPlan, PlanId,
    Product, RequestKey, Sku, StoreError, WarrantyPlan,
};

const INSERT_PLAN: &str = "INSERT INTO warranty_plans (org_id, id, name, duration_months, create_time) \
                           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, id) DO NOTHING \
                           RETURNING id, name, duration_months, create_time";
const GET_PLAN: &str =
    "SELECT id, name, duration_months, create_time FROM warranty_plans WHERE org_id = $1 AND id = $2";
const LIST_PLANS: &str = "SELECT id, name, duration_months, create_time FROM warranty_plans \
                          WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3";

const INSERT_PRODUCT: &str = "INSERT INTO products (org_id, sku, name, parent_sku, warranty_plan_id, create_time) \
                              VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, sku) DO NOTHING \
                              RETURNING sku, name, parent_sku, warranty_plan_id, create_time";
const GET_PRODUCT: &str = "SELECT sku, name, parent_sku, warranty_plan_id, create_time FROM products WHERE org_id = $1 AND sku = $2";
const LIST_PRODUCTS: &str = "SELECT sku, name, parent_sku, warranty_plan_id, create_time FROM products \
                             WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR parent_sku = $2) AND sku > $3 \
                             ORDER BY sku LIMIT $4";
/// The products and plans among a JSON list `$2`, for the serials of a batch.
const REF_PRODUCTS_POSTGRES: &str = "SELECT sku, warranty_plan_id FROM products \
     WHERE org_id = $1 AND sku IN (SELECT jsonb_array_elements_text(CAST($2 AS TEXT)::jsonb))";
const REF_PRODUCTS_SQLITE: &str = "SELECT sku, warranty_plan_id FROM products WHERE org_id = $1 AND sku IN (SELECT value FROM json_each($2))";
const REF_PLANS_POSTGRES: &str = "SELECT id FROM warranty_plans \
     WHERE org_id = $1 AND id IN (SELECT jsonb_array_elements_text(CAST($2 AS TEXT)::jsonb))";
const REF_PLANS_SQLITE: &str =
    "SELECT id FROM warranty_plans WHERE org_id = $1 AND id IN (SELECT value FROM json_each($2))";
const PRODUCT_EXISTS: &str = "SELECT 1 FROM products WHERE org_id = $1 AND sku = $2";
const PLAN_EXISTS: &str = "SELECT 1 FROM warranty_plans WHERE org_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
struct ProductRow {
    sku: String,
    name: String,
    parent_sku: Option<String>,
    warranty_plan_id: Option<String>,
    create_time: i64,
}

impl ProductRow {
    fn into_domain(self) -> Result<Product, StoreError> {
        Ok(Product {
            sku: self.sku,
            name: self.name,
            parent_sku: self.parent_sku,
            warranty_plan_id: self.warranty_plan_id,
            create_time: time(self.create_time)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: String,
    name: String,
    duration_months: i32,
    create_time: i64,
}

impl PlanRow {
    fn into_domain(self) -> Result<WarrantyPlan, StoreError> {
        Ok(WarrantyPlan {
            id: self.id,
            name: self.name,
            duration_months: self.duration_months,
            create_time: time(self.create_time)?,
        })
    }
}

/// What the catalog holds of the references of `serials`, read in `tx`.
pub(super) async fn refs<'a>(
    tx: &mut Tx,
    org: &str,
    serials: impl Iterator<Item = &'a NewSerial> + Clone,
) -> Result<CatalogRefs, sqlx::Error> {
    let mut refs = CatalogRefs::default();
    let skus: HashSet<&str> =
        serials.clone().filter_map(|s| s.product_sku.as_ref().map(|p| p.as_str())).collect();
    if !skus.is_empty() {
        let sql = tx.pick(REF_PRODUCTS_POSTGRES, REF_PRODUCTS_SQLITE);
        let list = json!(skus).to_string();
        let rows: Vec<(String, Option<String>)> =
            on_tx!(tx, c => sqlx::query_as(sql).bind(org).bind(&list).fetch_all(c))?;
        refs.products.extend(rows);
    }
    let plan_ids: HashSet<&str> =
        serials.filter_map(|s| s.warranty_plan_id.as_ref().map(|p| p.as_str())).collect();
    if !plan_ids.is_empty() {
        let sql = tx.pick(REF_PLANS_POSTGRES, REF_PLANS_SQLITE);
        let list = json!(plan_ids).to_string();
        let rows: Vec<String> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(org).bind(&list).fetch_all(c))?;
        refs.plans.extend(rows);
    }
    Ok(refs)
}

async fn exists(tx: &mut Tx, sql: &'static str, org: &str, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i32> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(org).bind(id).fetch_optional(c))?;
    Ok(found.is_some())
}

impl Store {
    pub async fn create_warranty_plan(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        plan: NewWarrantyPlan,
    ) -> Result<WarrantyPlan, CreatePlanError> {
        let mut write = begin_write!(&self.db, ctx, key);
        let row: Option<PlanRow> = on_tx!(&mut write.tx, c => sqlx::query_as(INSERT_PLAN)
            .bind(ctx.org)
            .bind(plan.id.as_str())
            .bind(plan.name.as_str())
            .bind(plan.duration_months.get())
            .bind(micros(ctx.now))
            .fetch_optional(c))?;
        let plan = row.ok_or(CreatePlanError::AlreadyExists)?.into_domain()?;
        write.commit(&plan).await?;
        Ok(plan)
    }

    pub async fn get_warranty_plan(
        &self,
        org: &str,
        id: &PlanId,
    ) -> Result<Option<WarrantyPlan>, StoreError> {
        let row: Option<PlanRow> = on_reader!(&self.db, c => sqlx::query_as(GET_PLAN).bind(org).bind(id.as_str()).fetch_optional(c))?;
        row.map(PlanRow::into_domain).transpose()
    }

    /// Plans ordered by id, after `after_id`.
    pub async fn list_warranty_plans(
        &self,
        org: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WarrantyPlan>, StoreError> {
        let rows: Vec<PlanRow> = on_reader!(&self.db, c => sqlx::query_as(LIST_PLANS)
            .bind(org)
            .bind(after_id.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(c))?;
        all(rows, PlanRow::into_domain)
    }

    pub async fn create_product(
        &self,
        ctx: &Ctx<'_>,
        key: Option<&RequestKey>,
        product: NewProduct,
    ) -> Result<Product, CreateProductError> {
        let mut write = begin_write!(&self.db, ctx, key);
        if let Some(parent) = &product.parent_sku
            && !exists(&mut write.tx, PRODUCT_EXISTS, ctx.org, parent.as_str()).await?
        {
            return Err(CreateProductError::UnknownParent);
        }
        if let Some(plan) = &product.warranty_plan_id
            && !exists(&mut write.tx, PLAN_EXISTS, ctx.org, plan.as_str()).await?
        {
            return Err(CreateProductError::UnknownPlan);
        }
        let row: Option<ProductRow> = on_tx!(&mut write.tx, c => sqlx::query_as(INSERT_PRODUCT)
            .bind(ctx.org)
            .bind(product.sku.as_str())
            .bind(product.name.as_str())
            .bind(product.parent_sku.as_ref().map(Sku::as_str))
            .bind(product.warranty_plan_id.as_ref().map(PlanId::as_str))
            .bind(micros(ctx.now))
            .fetch_optional(c))?;
        let product = row.ok_or(CreateProductError::AlreadyExists)?.into_domain()?;
        write.commit(&product).await?;
        Ok(product)
    }

    pub async fn get_product(&self, org: &str, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let row: Option<ProductRow> = on_reader!(&self.db, c => sqlx::query_as(GET_PRODUCT).bind(org).bind(sku.as_str()).fetch_optional(c))?;
        row.map(ProductRow::into_domain).transpose()
    }

    /// Products ordered by SKU after `after_sku`, optionally only the variants of `parent_sku`.
    pub async fn list_products(
        &self,
        org: &str,
        parent_sku: Option<&Sku>,
        after_sku: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Product>, StoreError> {
        let rows: Vec<ProductRow> = on_reader!(&self.db, c => sqlx::query_as(LIST_PRODUCTS)
            .bind(org)
            .bind(parent_sku.map(Sku::as_str))
            .bind(after_sku.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(c))?;
        all(rows, ProductRow::into_domain)
    }
}
