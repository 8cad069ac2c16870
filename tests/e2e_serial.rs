//! serial-svc end to end: real gRPC on loopback, on SQLite and on PostgreSQL. Refusals (error
//! details, bad input, limits, auth) are in `e2e_serial_errors.rs`.

mod support;

use std::collections::HashSet;

use futures::future::join_all;
use regserial::serial::v1::*;
use shared::testing::TestDb;
use support::grpc::expect_err;
use support::serials::{create, serial};
use support::{ORG, SerialSvc};
use tonic::Code;

shared::per_backend!(
    the_catalog_and_serial_lifecycle_works_over_grpc,
    list_pages_cover_every_serial_once_and_tokens_are_bound_to_filters,
    a_request_id_replays_the_first_answer_over_grpc,
    concurrent_claims_over_grpc_have_exactly_one_winner,
    shutdown_drains_and_exits_cleanly,
);

async fn the_catalog_and_serial_lifecycle_works_over_grpc(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    let plan = WarrantyPlan {
        id: "std-2y".into(),
        name: "Two years".into(),
        duration_months: 24,
        ..Default::default()
    };
    let plan = c
        .catalog
        .create_warranty_plan(CreateWarrantyPlanRequest { warranty_plan: Some(plan), ..Default::default() });
    assert_eq!(plan.await.unwrap().into_inner().duration_months, 24);
    let product = Product {
        sku: "DRILL".into(),
        name: "Drill".into(),
        warranty_plan_id: "std-2y".into(),
        ..Default::default()
    };
    c.catalog
        .create_product(CreateProductRequest { product: Some(product), ..Default::default() })
        .await
        .unwrap();
    let variant = Product {
        sku: "DRILL-RED".into(),
        name: "Red drill".into(),
        parent_sku: "DRILL".into(),
        ..Default::default()
    };
    c.catalog
        .create_product(CreateProductRequest { product: Some(variant), ..Default::default() })
        .await
        .unwrap();
    let variants =
        c.catalog.list_products(ListProductsRequest { parent_sku: "DRILL".into(), ..Default::default() });
    assert_eq!(variants.await.unwrap().into_inner().products[0].sku, "DRILL-RED");
    let plans =
        c.catalog.list_warranty_plans(ListWarrantyPlansRequest::default()).await.unwrap().into_inner();
    assert_eq!(plans.warranty_plans.len(), 1);
    assert_eq!(
        c.catalog.get_product(GetProductRequest { sku: "DRILL".into() }).await.unwrap().into_inner().name,
        "Drill"
    );

    let serials = vec![
        Serial { product_sku: "DRILL".into(), customer_tags: vec!["vip".into()], ..serial("  SN-001 ") },
        serial("SN-002"),
    ];
    let created = c.serials.batch_create_serials(BatchCreateSerialsRequest { serials, ..Default::default() });
    let created = created.await.unwrap().into_inner();
    assert!(created.errors.is_empty(), "{:?}", created.errors);
    let first = &created.serials[0];
    assert_eq!((first.serial_number.as_str(), first.warranty_plan_id.as_str()), ("SN-001", "std-2y"));
    assert_eq!(first.status(), SerialStatus::Active);

    let got =
        c.serials.get_serial(GetSerialRequest { serial_number: "sn-001".into() }).await.unwrap().into_inner();
    assert_eq!(got.customer_tags, ["vip"]);
    let valid =
        c.serials.validate_serial(ValidateSerialRequest { serial_number: "SN-001".into() }).await.unwrap();
    assert!(valid.into_inner().valid);

    let claim =
        ClaimSerialRequest { serial_number: "SN-001".into(), claimant: "reg-1".into(), ..Default::default() };
    let claimed = c.serials.claim_serial(claim.clone()).await.unwrap().into_inner();
    assert_eq!((claimed.status(), claimed.claimant.as_str()), (SerialStatus::Registered, "reg-1"));
    assert!(claimed.claim_time.is_some());
    c.serials.claim_serial(claim).await.expect("the same claimant again succeeds");
    let check =
        c.serials.validate_serial(ValidateSerialRequest { serial_number: "SN-001".into() }).await.unwrap();
    let check = check.into_inner();
    assert_eq!((check.valid, check.reason()), (false, InvalidReason::AlreadyRegistered));
    assert_eq!(check.serial.unwrap().claimant, "reg-1");

    let release = ReleaseSerialRequest {
        serial_number: "SN-001".into(),
        claimant: "reg-1".into(),
        ..Default::default()
    };
    assert_eq!(c.serials.release_serial(release).await.unwrap().into_inner().status(), SerialStatus::Active);
    let revoke =
        RevokeSerialRequest { serial_number: "SN-001".into(), reason: "recall".into(), ..Default::default() };
    let revoked = c.serials.revoke_serial(revoke).await.unwrap().into_inner();
    assert_eq!((revoked.status(), revoked.revoke_reason.as_str()), (SerialStatus::Revoked, "recall"));

    let events = c
        .serials
        .list_serial_events(ListSerialEventsRequest { serial_number: "SN-001".into(), ..Default::default() });
    let kinds: Vec<_> = events.await.unwrap().into_inner().events.iter().map(|e| e.r#type()).collect();
    use SerialEventType as E;
    assert_eq!(kinds, [E::Created, E::Claimed, E::Released, E::Revoked]);

    let allocated =
        c.serials.allocate_serial(AllocateSerialRequest { claimant: "reg-2".into(), ..Default::default() });
    let allocated = allocated.await.unwrap().into_inner();
    assert_eq!((allocated.serial_number.as_str(), allocated.claimant.as_str()), ("SN-002", "reg-2"));
    let none = c.serials.allocate_serial(AllocateSerialRequest::default()).await;
    let none = expect_err(none);
    assert_eq!((none.code, none.reason.as_str()), (Code::NotFound, "NO_SERIAL_AVAILABLE"));
    svc.stop().await;
}

async fn list_pages_cover_every_serial_once_and_tokens_are_bound_to_filters(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    let numbers: Vec<String> = (0..23).map(|i| format!("P-{i:03}")).collect();
    create(&mut c, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let claim =
        ClaimSerialRequest { serial_number: "P-005".into(), claimant: "r".into(), ..Default::default() };
    c.serials.claim_serial(claim).await.unwrap();

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = ListSerialsRequest { page_size: 5, page_token: token.clone(), ..Default::default() };
        let page = c.serials.list_serials(page).await.unwrap().into_inner();
        assert!(page.serials.len() <= 5);
        seen.extend(page.serials.into_iter().map(|s| s.serial_number));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, numbers);

    let active =
        ListSerialsRequest { page_size: 5, status: SerialStatus::Active.into(), ..Default::default() };
    let first = c.serials.list_serials(active.clone()).await.unwrap().into_inner();
    assert!(first.serials.iter().all(|s| s.status() == SerialStatus::Active));
    let registered = ListSerialsRequest { status: SerialStatus::Registered.into(), ..Default::default() };
    let only = c.serials.list_serials(registered.clone()).await.unwrap().into_inner();
    assert_eq!(only.serials.iter().map(|s| s.serial_number.as_str()).collect::<Vec<_>>(), ["P-005"]);

    let misused = ListSerialsRequest { page_token: first.next_page_token.clone(), ..registered };
    let err = expect_err(c.serials.list_serials(misused).await);
    assert_eq!(
        (err.code, err.reason.as_str(), err.fields.as_slice()),
        (Code::InvalidArgument, "INVALID_FIELD", &["page_token".to_owned()][..])
    );
    let mut tampered = first.next_page_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let err = expect_err(c.serials.list_serials(ListSerialsRequest { page_token: tampered, ..active }).await);
    assert_eq!((err.code, err.fields.as_slice()), (Code::InvalidArgument, &["page_token".to_owned()][..]));
    let negative = ListSerialsRequest { page_size: -1, ..Default::default() };
    let err = expect_err(c.serials.list_serials(negative).await);
    assert_eq!((err.code, err.fields.as_slice()), (Code::InvalidArgument, &["page_size".to_owned()][..]));
    svc.stop().await;
}

async fn a_request_id_replays_the_first_answer_over_grpc(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    create(&mut c, &["RQ-1", "RQ-2"]).await;
    let id = uuid::Uuid::new_v4().to_string();
    let allocate = AllocateSerialRequest { request_id: id.clone(), ..Default::default() };
    let first = c.serials.allocate_serial(allocate.clone()).await.unwrap().into_inner();
    let again = c.serials.allocate_serial(allocate).await.unwrap().into_inner();
    assert_eq!(first, again);
    let other_body = AllocateSerialRequest { request_id: id, claimant: "reg-1".into(), ..Default::default() };
    let err = expect_err(c.serials.allocate_serial(other_body).await);
    assert_eq!(
        (err.code, err.reason.as_str(), err.fields.as_slice()),
        (Code::InvalidArgument, "REQUEST_ID_REUSED", &["request_id".to_owned()][..])
    );
    let malformed = AllocateSerialRequest { request_id: "not-a-uuid".into(), ..Default::default() };
    let err = expect_err(c.serials.allocate_serial(malformed).await);
    assert_eq!(
        (err.reason.as_str(), err.fields.as_slice()),
        ("INVALID_FIELD", &["request_id".to_owned()][..])
    );
    svc.stop().await;
}

async fn concurrent_claims_over_grpc_have_exactly_one_winner(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    create(&mut c, &["HOT-1"]).await;
    let calls = (0..64).map(|i| {
        let mut serials = c.serials.clone();
        async move {
            let claim = ClaimSerialRequest {
                serial_number: "HOT-1".into(),
                claimant: format!("reg-{i}"),
                ..Default::default()
            };
            serials.claim_serial(claim).await
        }
    });
    let results = join_all(calls).await;
    let winners: HashSet<_> =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.get_ref().claimant.clone()).collect();
    assert_eq!(winners.len(), 1);
    for result in &results {
        if let Err(status) = result {
            assert_eq!(support::grpc::failure(status).reason, "SERIAL_ALREADY_REGISTERED");
        }
    }
    svc.stop().await;
}

async fn shutdown_drains_and_exits_cleanly(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    assert_eq!(
        svc.health("regserial.serial.v1.SerialService").await,
        Some(tonic_health::pb::health_check_response::ServingStatus::Serving)
    );
    tokio::time::timeout(std::time::Duration::from_secs(30), svc.stop()).await.expect("shutdown completes");
}
