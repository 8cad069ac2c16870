//! `CatalogService`, one function per RPC (its scopes are in the table of [`super`]): parse the
//! message into domain values, call the store, map the answer or the error.

use regserial::serial::v1 as pb;
use serde::Serialize;

use super::fields::{Violations, field};
use super::paging::{DEFAULT_PAGE_SIZE, PageQuery, cursor, fetch_limit, next_page, page_size};
use super::request_key::{Idempotent, request_key};
use super::{Answer, Call, DOMAIN, convert, errors};
use crate::domain::{
    DurationMonths, MAX_DURATION_MONTHS, Name, NewProduct, NewWarrantyPlan, PlanId, RequestKey, Sku, optional,
};

/// A catalog list's filter in its page tokens.
#[derive(Serialize)]
struct CatalogFilter<'a> {
    parent_sku: Option<&'a str>,
}

pub(super) async fn get_product(call: Call<'_, pb::GetProductRequest>) -> Answer<pb::Product> {
    let sku = field("sku", Sku::parse(&call.request.sku))?;
    let found = call.api.store.get_product(call.caller.org(), &sku).await.map_err(errors::store)?;
    Ok(convert::product(found.ok_or_else(|| errors::product_not_found(&sku))?))
}

pub(super) async fn get_warranty_plan(
    call: Call<'_, pb::GetWarrantyPlanRequest>,
) -> Answer<pb::WarrantyPlan> {
    let id = field("id", PlanId::parse(&call.request.id))?;
    let found = call.api.store.get_warranty_plan(call.caller.org(), &id).await.map_err(errors::store)?;
    Ok(convert::warranty_plan(found.ok_or_else(|| errors::warranty_plan_not_found(&id))?))
}

pub(super) async fn create_product(call: Call<'_, pb::CreateProductRequest>) -> Answer<pb::Product> {
    let (key, product) = with_key(&call.request, parse_product)?;
    let sku = product.sku.clone();
    let created = call.api.store.create_product(&call.caller.ctx(), key.as_ref(), product).await;
    Ok(convert::product(created.map_err(|err| errors::create_product(err, &sku))?))
}

pub(super) async fn create_warranty_plan(
    call: Call<'_, pb::CreateWarrantyPlanRequest>,
) -> Answer<pb::WarrantyPlan> {
    let (key, plan) = with_key(&call.request, parse_plan)?;
    let id = plan.id.clone();
    let created = call.api.store.create_warranty_plan(&call.caller.ctx(), key.as_ref(), plan).await;
    Ok(convert::warranty_plan(created.map_err(|err| errors::create_plan(err, &id))?))
}

/// The request key and the entry a create request holds, or every violation of both.
fn with_key<M: Idempotent, T>(
    request: &M,
    parse: fn(&M, &mut Violations) -> Option<T>,
) -> Answer<(Option<RequestKey>, T)> {
    let mut violations = Violations::new(DOMAIN);
    let key = violations.check("request_id", request_key(request));
    match (key, parse(request, &mut violations)) {
        (Some(key), Some(entry)) => Ok((key, entry)),
        _ => Err(violations.into_status()),
    }
}

pub(super) async fn list_products(
    call: Call<'_, pb::ListProductsRequest>,
) -> Answer<pb::ListProductsResponse> {
    let limit = page_size(call.request.page_size, DEFAULT_PAGE_SIZE)?;
    let parent = field("parent_sku", optional(&call.request.parent_sku, Sku::parse))?;
    let filters = CatalogFilter { parent_sku: parent.as_ref().map(Sku::as_str) };
    let query = PageQuery { method: "ListProducts", org: call.caller.org(), filters };
    let after: Option<String> = cursor(&call.api.tokens, &call.request.page_token, &query)?;
    let listed = call.api.store.list_products(
        call.caller.org(),
        parent.as_ref(),
        after.as_deref(),
        fetch_limit(limit),
    );
    let mut products = listed.await.map_err(errors::store)?;
    let next_page_token = next_page(&call.api.tokens, &mut products, limit, &query, |p| p.sku.clone());
    let products = products.into_iter().map(convert::product).collect();
    Ok(pb::ListProductsResponse { products, next_page_token })
}

pub(super) async fn list_warranty_plans(
    call: Call<'_, pb::ListWarrantyPlansRequest>,
) -> Answer<pb::ListWarrantyPlansResponse> {
    let limit = page_size(call.request.page_size, DEFAULT_PAGE_SIZE)?;
    let filters = CatalogFilter { parent_sku: None };
    let query = PageQuery { method: "ListWarrantyPlans", org: call.caller.org(), filters };
    let after: Option<String> = cursor(&call.api.tokens, &call.request.page_token, &query)?;
    let listed = call.api.store.list_warranty_plans(call.caller.org(), after.as_deref(), fetch_limit(limit));
    let mut plans = listed.await.map_err(errors::store)?;
    let next_page_token = next_page(&call.api.tokens, &mut plans, limit, &query, |p| p.id.clone());
    let warranty_plans = plans.into_iter().map(convert::warranty_plan).collect();
    Ok(pb::ListWarrantyPlansResponse { warranty_plans, next_page_token })
}

/// The product of a `CreateProduct` request.
fn parse_product(request: &pb::CreateProductRequest, violations: &mut Violations) -> Option<NewProduct> {
    let Some(product) = &request.product else {
        violations.add("product", "is required");
        return None;
    };
    let sku = violations.check("product.sku", Sku::parse(&product.sku));
    let name = violations.check("product.name", Name::parse(&product.name));
    let parent_sku = violations.check("product.parent_sku", optional(&product.parent_sku, Sku::parse));
    let plan =
        violations.check("product.warranty_plan_id", optional(&product.warranty_plan_id, PlanId::parse));
    Some(NewProduct { sku: sku?, name: name?, parent_sku: parent_sku?, warranty_plan_id: plan? })
}

/// The plan of a `CreateWarrantyPlan` request; an empty id gets a new UUIDv7.
fn parse_plan(
    request: &pb::CreateWarrantyPlanRequest,
    violations: &mut Violations,
) -> Option<NewWarrantyPlan> {
    let Some(plan) = &request.warranty_plan else {
        violations.add("warranty_plan", "is required");
        return None;
    };
    let id = if plan.id.trim().is_empty() {
        PlanId::parse(&uuid::Uuid::now_v7().to_string()).ok()
    } else {
        violations.check("warranty_plan.id", PlanId::parse(&plan.id))
    };
    let name = violations.check("warranty_plan.name", Name::parse(&plan.name));
    let months = DurationMonths::new(plan.duration_months);
    if months.is_none() {
        let why = format!("must be between 1 and {MAX_DURATION_MONTHS}, got {}", plan.duration_months);
        violations.add("warranty_plan.duration_months", why);
    }
    Some(NewWarrantyPlan { id: id?, name: name?, duration_months: months? })
}
