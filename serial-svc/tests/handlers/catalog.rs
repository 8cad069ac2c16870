use regserial::serial::v1 as pb;
use regserial::serial::v1::catalog_service_server::CatalogService;
use tonic::Code;

use crate::support::*;

fn plan(id: &str, name: &str, months: i32) -> pb::CreateWarrantyPlanRequest {
    let plan =
        pb::WarrantyPlan { id: id.into(), name: name.into(), duration_months: months, create_time: None };
    pb::CreateWarrantyPlanRequest { warranty_plan: Some(plan), request_id: String::new() }
}

fn product(sku: &str, parent: &str, plan: &str) -> pb::CreateProductRequest {
    let product = pb::Product {
        sku: sku.into(),
        name: "Cordless drill".into(),
        parent_sku: parent.into(),
        warranty_plan_id: plan.into(),
        create_time: None,
    };
    pb::CreateProductRequest { product: Some(product), request_id: String::new() }
}

#[tokio::test]
async fn a_plan_without_an_id_gets_one_and_can_be_read_back() {
    let h = harness().await;
    let created = h.api.create_warranty_plan(writer(plan("", "Standard", 24))).await.unwrap().into_inner();
    assert!(uuid::Uuid::parse_str(&created.id).is_ok(), "{}", created.id);
    let read = h.api.get_warranty_plan(reader(pb::GetWarrantyPlanRequest { id: created.id.clone() })).await;
    assert_eq!(read.unwrap().into_inner(), created);
}

#[tokio::test]
async fn invalid_plans_name_every_bad_field() {
    let h = harness().await;
    let status = h.api.create_warranty_plan(writer(plan("bad id", "", 0))).await.unwrap_err();
    let fields = bad_fields(&status, "INVALID_FIELD");
    assert_eq!(fields, ["warranty_plan.id", "warranty_plan.name", "warranty_plan.duration_months"]);
    let status = h.api.create_warranty_plan(writer(plan("p1", "Long", 1201))).await.unwrap_err();
    assert_invalid_field(&status, "warranty_plan.duration_months");
    let missing = pb::CreateWarrantyPlanRequest { warranty_plan: None, request_id: String::new() };
    assert_invalid_field(&h.api.create_warranty_plan(writer(missing)).await.unwrap_err(), "warranty_plan");
}

#[tokio::test]
async fn products_refuse_duplicates_and_unknown_references() {
    let h = harness().await;
    h.api.create_warranty_plan(writer(plan("std", "Standard", 24))).await.unwrap();
    h.api.create_product(writer(product("DRILL-1", "", "std"))).await.unwrap();
    let status = h.api.create_product(writer(product("DRILL-1", "", ""))).await.unwrap_err();
    assert_eq!(reason(&status, Code::AlreadyExists), "PRODUCT_ALREADY_EXISTS");
    let status = h.api.create_product(writer(product("DRILL-2", "NOPE", ""))).await.unwrap_err();
    assert_invalid_field(&status, "product.parent_sku");
    let status = h.api.create_product(writer(product("DRILL-2", "", "nope"))).await.unwrap_err();
    assert_invalid_field(&status, "product.warranty_plan_id");
    let status = h.api.create_product(writer(product("", "", ""))).await.unwrap_err();
    assert_invalid_field(&status, "product.sku");
}

#[tokio::test]
async fn missing_catalog_entries_are_not_found() {
    let h = harness().await;
    let status = h.api.get_product(reader(pb::GetProductRequest { sku: "NOPE".into() })).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "PRODUCT_NOT_FOUND");
    let status =
        h.api.get_warranty_plan(reader(pb::GetWarrantyPlanRequest { id: "nope".into() })).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "WARRANTY_PLAN_NOT_FOUND");
    let status = h.api.create_warranty_plan(writer(plan("dup", "A", 1))).await.map(|_| ());
    assert!(status.is_ok());
    let status = h.api.create_warranty_plan(writer(plan("dup", "A", 1))).await.unwrap_err();
    assert_eq!(reason(&status, Code::AlreadyExists), "WARRANTY_PLAN_ALREADY_EXISTS");
}

#[tokio::test]
async fn variants_are_listed_by_parent_in_sku_order_across_pages() {
    let h = harness().await;
    h.api.create_product(writer(product("BASE", "", ""))).await.unwrap();
    for sku in ["V-3", "V-1", "V-2"] {
        h.api.create_product(writer(product(sku, "BASE", ""))).await.unwrap();
    }
    let list = |token: String| pb::ListProductsRequest {
        page_size: 2,
        page_token: token,
        parent_sku: "BASE".into(),
    };
    let first = h.api.list_products(reader(list(String::new()))).await.unwrap().into_inner();
    let second = h.api.list_products(reader(list(first.next_page_token.clone()))).await.unwrap().into_inner();
    let skus: Vec<_> = first.products.iter().chain(&second.products).map(|p| p.sku.as_str()).collect();
    assert_eq!(skus, ["V-1", "V-2", "V-3"]);
    assert!(second.next_page_token.is_empty());
    let unfiltered = pb::ListProductsRequest {
        page_size: 2,
        page_token: first.next_page_token,
        parent_sku: String::new(),
    };
    assert_invalid_field(&h.api.list_products(reader(unfiltered)).await.unwrap_err(), "page_token");
}
