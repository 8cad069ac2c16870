use serial_svc::domain::{
    BatchCreateError, ItemReason, PlanId, SerialFilter, SerialStatus, Sku, ValidityWindow,
};
use serial_svc::store::Store;

use super::*;

pub async fn batch_create_reports_each_failure_and_creates_the_rest(store: Store) {
    seed(&store, &["EXISTING-1"]).await;
    seed_plan(&store, "std-2y", 24).await;
    store.create_product(&ctx(t0()), None, product("DRILL", None, None)).await.unwrap();
    let items = vec![
        (0, NewSerial { product_sku: Some(Sku::parse("DRILL").unwrap()), ..serial("NEW-1") }),
        (1, serial("existing-1")),
        (2, NewSerial { product_sku: Some(Sku::parse("NOPE").unwrap()), ..serial("NEW-2") }),
        (3, NewSerial { warranty_plan_id: Some(PlanId::parse("nope").unwrap()), ..serial("NEW-3") }),
        (4, NewSerial { warranty_plan_id: Some(PlanId::parse("std-2y").unwrap()), ..serial("NEW-4") }),
    ];
    let outcome = store.create_serials(&ctx(t0()), None, items, false).await.unwrap();
    let created: Vec<_> = outcome.created.iter().map(|s| s.serial_number.as_str()).collect();
    assert_eq!(created, ["NEW-1", "NEW-4"]);
    let errors: Vec<_> = outcome.errors.iter().map(|e| (e.index, e.reason)).collect();
    assert_eq!(
        errors,
        [
            (1, ItemReason::AlreadyExists),
            (2, ItemReason::UnknownProductSku),
            (3, ItemReason::UnknownWarrantyPlan)
        ]
    );
    assert!(outcome.errors[0].message.contains("already exists"), "{}", outcome.errors[0].message);
}

/// PostgreSQL writes new batches with COPY's text format, where a backslash, a tab, a line end
/// and `\N` mean something: every column must come back exactly as it was given.
pub async fn batch_keeps_every_value_exactly_as_given(store: Store) {
    let tags = ["back\\slash", "\\N", "quote\"d", "tab\\there"].map(String::from);
    let window =
        ValidityWindow::new(Some(t0() + Duration::microseconds(1)), Some(t0() + Duration::days(400)), None)
            .unwrap();
    let item =
        NewSerial { window, customer_tags: CustomerTags::parse(&tags).unwrap(), ..serial("Odd/Value:1") };
    let at = Ctx { org: ORG, actor: "svc\\ops\tteam\r\n", now: t0() };
    let outcome =
        store.create_serials(&at, None, vec![(0, item), (1, serial("PLAIN-1"))], true).await.unwrap();
    let found = store.get_serial(ORG, &sn("odd/value:1")).await.unwrap().unwrap();
    assert_eq!(found, outcome.created[0]);
    assert_eq!(found.serial_number, "Odd/Value:1");
    assert_eq!(found.customer_tags, tags);
    assert_eq!(found.window, window);
    assert_eq!((found.product_sku, found.warranty_plan_id), (None, None));
    let events = store.list_serial_events(ORG, &sn("ODD/VALUE:1"), None, 10).await.unwrap().unwrap();
    assert_eq!(events[0].actor, "svc\\ops\tteam\r\n");
    assert_eq!(events[0].time, t0());
}

pub async fn atomic_batch_with_one_failure_creates_nothing(store: Store) {
    seed(&store, &["TAKEN"]).await;
    let items = vec![(0, serial("FRESH-1")), (1, serial("taken")), (2, serial("FRESH-2"))];
    let err = store.create_serials(&ctx(t0()), None, items, true).await.unwrap_err();
    let BatchCreateError::Rejected { errors } = err else { panic!("expected a rejection, got {err:?}") };
    assert_eq!(
        errors.iter().map(|e| (e.index, e.reason)).collect::<Vec<_>>(),
        [(1, ItemReason::AlreadyExists)]
    );
    assert!(store.get_serial(ORG, &sn("FRESH-1")).await.unwrap().is_none());
    assert!(store.get_serial(ORG, &sn("FRESH-2")).await.unwrap().is_none());
}

pub async fn serial_numbers_are_unique_case_insensitively_and_kept_as_written(store: Store) {
    seed(&store, &["AbC-1"]).await;
    let found = store.get_serial(ORG, &sn("abc-1")).await.unwrap().unwrap();
    assert_eq!(found.serial_number, "AbC-1");
    let outcome = store.create_serials(&ctx(t0()), None, vec![(0, serial("ABC-1"))], false).await.unwrap();
    assert!(outcome.created.is_empty());
    assert_eq!(outcome.errors[0].reason, ItemReason::AlreadyExists);
}

pub async fn a_serial_inherits_its_products_warranty_plan(store: Store) {
    seed_plan(&store, "std-2y", 24).await;
    store.create_product(&ctx(t0()), None, product("DRILL", None, Some("std-2y"))).await.unwrap();
    let item = NewSerial { product_sku: Some(Sku::parse("DRILL").unwrap()), ..serial("D-1") };
    let outcome = store.create_serials(&ctx(t0()), None, vec![(0, item)], true).await.unwrap();
    assert_eq!(outcome.created[0].warranty_plan_id.as_deref(), Some("std-2y"));
    assert_eq!(outcome.created[0].product_sku.as_deref(), Some("DRILL"));
}

pub async fn list_pages_in_creation_order_with_filters(store: Store) {
    store.create_product(&ctx(t0()), None, product("DRILL", None, None)).await.unwrap();
    let items = (0..7)
        .map(|i| {
            let sku = (i % 2 == 0).then(|| Sku::parse("DRILL").unwrap());
            (i, NewSerial { product_sku: sku, ..serial(&format!("L-{i}")) })
        })
        .collect();
    store.create_serials(&ctx(t0()), None, items, true).await.unwrap();
    store.claim_serial(&ctx(t0()), None, &sn("L-2"), &claimant("r1")).await.unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_serials(ORG, &SerialFilter::default(), after, 3, t0()).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|(id, _)| *id);
        seen.extend(page.into_iter().map(|(_, s)| s.serial_number));
    }
    assert_eq!(seen, (0..7).map(|i| format!("L-{i}")).collect::<Vec<_>>());

    let drills = SerialFilter { product_sku: Some(Sku::parse("DRILL").unwrap()), status: None };
    assert_eq!(store.list_serials(ORG, &drills, None, 100, t0()).await.unwrap().len(), 4);
    let registered = SerialFilter { status: Some(SerialStatus::Registered), product_sku: None };
    let page = store.list_serials(ORG, &registered, None, 100, t0()).await.unwrap();
    assert_eq!(page.iter().map(|(_, s)| s.serial_number.as_str()).collect::<Vec<_>>(), ["L-2"]);
    let active = SerialFilter { status: Some(SerialStatus::Active), product_sku: None };
    assert_eq!(store.list_serials(ORG, &active, None, 100, t0()).await.unwrap().len(), 6);

    // Every status, alone and with the SKU, at a time that has expired one more serial.
    let later = t0() + chrono::Duration::days(2);
    let window = ValidityWindow { valid_until: Some(t0() + chrono::Duration::days(1)), ..Default::default() };
    let expiring = NewSerial { product_sku: Some(Sku::parse("DRILL").unwrap()), window, ..serial("L-7") };
    store.create_serials(&ctx(t0()), None, vec![(0, expiring)], true).await.unwrap();
    store.revoke_serial(&ctx(t0()), None, &sn("L-4"), "stolen").await.unwrap();
    let listed = |sku: Option<&str>, status| {
        let filter = SerialFilter { status: Some(status), product_sku: sku.map(|s| Sku::parse(s).unwrap()) };
        let store = store.clone();
        async move {
            let page = store.list_serials(ORG, &filter, None, 100, later).await.unwrap();
            page.into_iter().map(|(_, s)| s.serial_number).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(None, SerialStatus::Active).await, ["L-0", "L-1", "L-3", "L-5", "L-6"]);
    assert_eq!(listed(Some("DRILL"), SerialStatus::Active).await, ["L-0", "L-6"]);
    assert_eq!(listed(None, SerialStatus::Expired).await, ["L-7"]);
    assert_eq!(listed(Some("DRILL"), SerialStatus::Expired).await, ["L-7"]);
    assert_eq!(listed(None, SerialStatus::Revoked).await, ["L-4"]);
    assert_eq!(listed(Some("DRILL"), SerialStatus::Registered).await, ["L-2"]);
    let at_creation = store.list_serials(ORG, &active, None, 100, t0()).await.unwrap();
    assert!(at_creation.iter().any(|(_, s)| s.serial_number == "L-7"), "active until it expires");
}

pub async fn another_orgs_serials_are_invisible(store: Store) {
    seed(&store, &["SHARED-NAME"]).await;
    let other = org_ctx("globex");
    assert!(store.get_serial("globex", &sn("SHARED-NAME")).await.unwrap().is_none());
    assert!(store.list_serials("globex", &SerialFilter::default(), None, 10, t0()).await.unwrap().is_empty());
    assert!(store.list_serial_events("globex", &sn("SHARED-NAME"), None, 10).await.unwrap().is_none());
    let claim = store.claim_serial(&other, None, &sn("SHARED-NAME"), &claimant("r1")).await;
    assert!(matches!(claim, Err(serial_svc::domain::ClaimError::NotFound)), "{claim:?}");
    // The same serial number is free to exist in another org.
    let outcome = store.create_serials(&other, None, vec![(0, serial("shared-name"))], true).await.unwrap();
    assert_eq!(outcome.created.len(), 1);
    assert!(store.allocate_serial(&org_ctx("initech"), None, None, None).await.is_err());
    assert_eq!(
        store.get_serial(ORG, &sn("shared-name")).await.unwrap().unwrap().serial_number,
        "SHARED-NAME"
    );
}
