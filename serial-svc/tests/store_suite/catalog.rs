use serial_svc::domain::{CreatePlanError, CreateProductError, Sku};
use serial_svc::store::Store;

use super::*;

pub async fn catalog_refuses_duplicates_and_unknown_references(store: Store) {
    seed_plan(&store, "std-2y", 24).await;
    let plan = NewWarrantyPlan {
        id: PlanId::parse("std-2y").unwrap(),
        name: Name::parse("Again").unwrap(),
        duration_months: DurationMonths::new(12).unwrap(),
    };
    let err = store.create_warranty_plan(&ctx(t0()), None, plan).await.unwrap_err();
    assert!(matches!(err, CreatePlanError::AlreadyExists), "{err:?}");

    let parent =
        store.create_product(&ctx(t0()), None, product("DRILL", None, Some("std-2y"))).await.unwrap();
    assert_eq!(parent.warranty_plan_id.as_deref(), Some("std-2y"));
    let err = store.create_product(&ctx(t0()), None, product("DRILL", None, None)).await.unwrap_err();
    assert!(matches!(err, CreateProductError::AlreadyExists), "{err:?}");
    let err = store.create_product(&ctx(t0()), None, product("V1", Some("NOPE"), None)).await.unwrap_err();
    assert!(matches!(err, CreateProductError::UnknownParent), "{err:?}");
    let err = store.create_product(&ctx(t0()), None, product("V1", None, Some("nope"))).await.unwrap_err();
    assert!(matches!(err, CreateProductError::UnknownPlan), "{err:?}");
    let variant =
        store.create_product(&ctx(t0()), None, product("DRILL-RED", Some("DRILL"), None)).await.unwrap();
    assert_eq!(variant.parent_sku.as_deref(), Some("DRILL"));
    // Another org sees none of it.
    assert!(store.get_product("globex", &Sku::parse("DRILL").unwrap()).await.unwrap().is_none());
    assert!(store.get_warranty_plan("globex", &PlanId::parse("std-2y").unwrap()).await.unwrap().is_none());
}

pub async fn catalog_lists_page_in_key_order(store: Store) {
    for id in ["p-c", "p-a", "p-b"] {
        seed_plan(&store, id, 12).await;
    }
    let first = store.list_warranty_plans(ORG, None, 2).await.unwrap();
    assert_eq!(first.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p-a", "p-b"]);
    let rest = store.list_warranty_plans(ORG, Some("p-b"), 2).await.unwrap();
    assert_eq!(rest.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p-c"]);

    store.create_product(&ctx(t0()), None, product("TOOL", None, None)).await.unwrap();
    for sku in ["TOOL-B", "TOOL-A"] {
        store.create_product(&ctx(t0()), None, product(sku, Some("TOOL"), None)).await.unwrap();
    }
    let tool = Sku::parse("TOOL").unwrap();
    let variants = store.list_products(ORG, Some(&tool), None, 10).await.unwrap();
    assert_eq!(variants.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(), ["TOOL-A", "TOOL-B"]);
    let all = store.list_products(ORG, None, Some("TOOL"), 10).await.unwrap();
    assert_eq!(all.len(), 2);
}
