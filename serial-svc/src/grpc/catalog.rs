//! `CatalogService`: products and warranty plans.

use regserial::serial::v1 as pb;
use regserial::serial::v1::catalog_service_server::CatalogService;
use serde::Serialize;
use tonic::{Request, Response, Status};

use super::fields::{Violations, field};
use super::paging::{DEFAULT_PAGE_SIZE, cursor, fetch_limit, next_page, page_size};
use super::request_key::request_key;
use super::{Api, Caller, READ_SCOPES, WRITE_SCOPES, convert, errors};
use crate::domain::{
    DurationMonths, MAX_DURATION_MONTHS, Name, NewProduct, NewWarrantyPlan, PlanId, Sku, optional,
};

/// What a catalog list's page token is bound to.
#[derive(Serialize)]
struct CatalogQuery<'a> {
    method: &'static str,
    org: &'a str,
    parent_sku: Option<&'a str>,
}

#[tonic::async_trait]
impl CatalogService for Api {
    async fn create_product(
        &self,
        request: Request<pb::CreateProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_create_product(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_product(
        &self,
        request: Request<pb::GetProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_get_product(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_products(
        &self,
        request: Request<pb::ListProductsRequest>,
    ) -> Result<Response<pb::ListProductsResponse>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_list_products(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn create_warranty_plan(
        &self,
        request: Request<pb::CreateWarrantyPlanRequest>,
    ) -> Result<Response<pb::WarrantyPlan>, Status> {
        let caller = self.caller(&request, WRITE_SCOPES)?;
        self.inner_create_warranty_plan(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn get_warranty_plan(
        &self,
        request: Request<pb::GetWarrantyPlanRequest>,
    ) -> Result<Response<pb::WarrantyPlan>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_get_warranty_plan(&caller, request.into_inner()).await.map(Response::new)
    }

    async fn list_warranty_plans(
        &self,
        request: Request<pb::ListWarrantyPlansRequest>,
    ) -> Result<Response<pb::ListWarrantyPlansResponse>, Status> {
        let caller = self.caller(&request, READ_SCOPES)?;
        self.inner_list_warranty_plans(&caller, request.into_inner()).await.map(Response::new)
    }
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

impl Api {
    pub async fn inner_create_product(
        &self,
        caller: &Caller,
        request: pb::CreateProductRequest,
    ) -> Result<pb::Product, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let product = parse_product(&request, &mut violations);
        let (Some(key), Some(product)) = (key, product) else { return Err(violations.into_status()) };
        let sku = product.sku.clone();
        let created = self
            .store
            .create_product(&caller.ctx(), key.as_ref(), product)
            .await
            .map_err(|err| errors::create_product(err, &sku))?;
        Ok(convert::product(created))
    }

    pub async fn inner_get_product(
        &self,
        caller: &Caller,
        request: pb::GetProductRequest,
    ) -> Result<pb::Product, Status> {
        let sku = field("sku", Sku::parse(&request.sku))?;
        match self.store.get_product(caller.org(), &sku).await.map_err(errors::store)? {
            Some(product) => Ok(convert::product(product)),
            None => Err(errors::product_not_found(&sku)),
        }
    }

    pub async fn inner_list_products(
        &self,
        caller: &Caller,
        request: pb::ListProductsRequest,
    ) -> Result<pb::ListProductsResponse, Status> {
        let limit = page_size(request.page_size, DEFAULT_PAGE_SIZE)?;
        let parent = field("parent_sku", optional(&request.parent_sku, Sku::parse))?;
        let query = CatalogQuery {
            method: "ListProducts",
            org: caller.org(),
            parent_sku: parent.as_ref().map(Sku::as_str),
        };
        let after: Option<String> = cursor(&self.tokens, &request.page_token, &query)?;
        let mut products = self
            .store
            .list_products(caller.org(), parent.as_ref(), after.as_deref(), fetch_limit(limit))
            .await
            .map_err(errors::store)?;
        let next_page_token = next_page(&self.tokens, &mut products, limit, &query, |p| p.sku.clone());
        Ok(pb::ListProductsResponse {
            products: products.into_iter().map(convert::product).collect(),
            next_page_token,
        })
    }

    pub async fn inner_create_warranty_plan(
        &self,
        caller: &Caller,
        request: pb::CreateWarrantyPlanRequest,
    ) -> Result<pb::WarrantyPlan, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let plan = parse_plan(&request, &mut violations);
        let (Some(key), Some(plan)) = (key, plan) else { return Err(violations.into_status()) };
        let id = plan.id.clone();
        let created = self
            .store
            .create_warranty_plan(&caller.ctx(), key.as_ref(), plan)
            .await
            .map_err(|err| errors::create_plan(err, &id))?;
        Ok(convert::warranty_plan(created))
    }

    pub async fn inner_get_warranty_plan(
        &self,
        caller: &Caller,
        request: pb::GetWarrantyPlanRequest,
    ) -> Result<pb::WarrantyPlan, Status> {
        let id = field("id", PlanId::parse(&request.id))?;
        match self.store.get_warranty_plan(caller.org(), &id).await.map_err(errors::store)? {
            Some(plan) => Ok(convert::warranty_plan(plan)),
            None => Err(errors::warranty_plan_not_found(&id)),
        }
    }

    pub async fn inner_list_warranty_plans(
        &self,
        caller: &Caller,
        request: pb::ListWarrantyPlansRequest,
    ) -> Result<pb::ListWarrantyPlansResponse, Status> {
        let limit = page_size(request.page_size, DEFAULT_PAGE_SIZE)?;
        let query = CatalogQuery { method: "ListWarrantyPlans", org: caller.org(), parent_sku: None };
        let after: Option<String> = cursor(&self.tokens, &request.page_token, &query)?;
        let mut plans = self
            .store
            .list_warranty_plans(caller.org(), after.as_deref(), fetch_limit(limit))
            .await
            .map_err(errors::store)?;
        let next_page_token = next_page(&self.tokens, &mut plans, limit, &query, |p| p.id.clone());
        let warranty_plans = plans.into_iter().map(convert::warranty_plan).collect();
        Ok(pb::ListWarrantyPlansResponse { warranty_plans, next_page_token })
    }
}
