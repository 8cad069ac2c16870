//! serial-svc end to end, its refusals: google.rpc details, bad input naming its field, batch
//! limits, auth and tenancy; real gRPC on loopback, on SQLite and on PostgreSQL.

mod support;

use regserial::serial::v1::*;
use shared::auth::Scope;
use shared::testing::TestDb;
use support::grpc::{Clients, expect_err};
use support::serials::{create, serial, ts};
use support::{ORG, SerialSvc};
use tonic::Code;

shared::per_backend!(
    errors_carry_decoded_google_rpc_details,
    bad_serial_numbers_and_windows_are_refused_naming_the_field,
    a_batch_over_the_limit_reaches_the_service_not_the_transport,
    auth_is_required_and_data_is_scoped_by_org,
);

async fn errors_carry_decoded_google_rpc_details(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    create(&mut c, &["E-1"]).await;

    let err = expect_err(c.serials.get_serial(GetSerialRequest { serial_number: "NOPE".into() }).await);
    assert_eq!(
        (err.code, err.reason.as_str(), err.domain.as_str()),
        (Code::NotFound, "SERIAL_NOT_FOUND", "serial.regserial")
    );
    assert!(err.has_resource_info);
    assert_eq!(err.metadata.get("serial_number").map(String::as_str), Some("NOPE"));

    let claim = |who: &str| ClaimSerialRequest {
        serial_number: "E-1".into(),
        claimant: who.into(),
        ..Default::default()
    };
    c.serials.claim_serial(claim("reg-1")).await.unwrap();
    let err = expect_err(c.serials.claim_serial(claim("reg-2")).await);
    assert_eq!((err.code, err.reason.as_str()), (Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"));
    assert_eq!(
        err.metadata.get("invalid_reason").map(String::as_str),
        Some("INVALID_REASON_ALREADY_REGISTERED")
    );
    assert!(err.has_precondition_failure);

    let release =
        ReleaseSerialRequest { serial_number: "E-1".into(), claimant: "reg-2".into(), ..Default::default() };
    let err = expect_err(c.serials.release_serial(release).await);
    assert_eq!(
        (err.code, err.reason.as_str()),
        (Code::FailedPrecondition, "SERIAL_HELD_BY_ANOTHER_CLAIMANT")
    );

    let revoke =
        RevokeSerialRequest { serial_number: "E-1".into(), reason: "stolen".into(), ..Default::default() };
    c.serials.revoke_serial(revoke).await.unwrap();
    let err = expect_err(c.serials.claim_serial(claim("reg-1")).await);
    assert_eq!(err.reason, "SERIAL_REVOKED");

    let window = Serial { valid_from: ts(4_000_000_000), ..serial("FUTURE-1") };
    let batch = BatchCreateSerialsRequest { serials: vec![window], ..Default::default() };
    c.serials.batch_create_serials(batch).await.unwrap();
    let err = expect_err(
        c.serials
            .claim_serial(ClaimSerialRequest {
                serial_number: "FUTURE-1".into(),
                claimant: "r".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(err.reason, "SERIAL_NOT_YET_VALID");
    let past = Serial { valid_until: ts(1_000_000_000), ..serial("PAST-1") };
    c.serials
        .batch_create_serials(BatchCreateSerialsRequest { serials: vec![past], ..Default::default() })
        .await
        .unwrap();
    let err = expect_err(
        c.serials
            .claim_serial(ClaimSerialRequest {
                serial_number: "PAST-1".into(),
                claimant: "r".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(err.reason, "SERIAL_EXPIRED");
    let got =
        c.serials.get_serial(GetSerialRequest { serial_number: "PAST-1".into() }).await.unwrap().into_inner();
    assert_eq!(got.status(), SerialStatus::Expired);
    svc.stop().await;
}

async fn bad_serial_numbers_and_windows_are_refused_naming_the_field(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    for bad in ["", "   ", &"x".repeat(65), "AB CD", "AB\u{1}CD", "AB#CD"] {
        let err = expect_err(c.serials.get_serial(GetSerialRequest { serial_number: bad.into() }).await);
        assert_eq!((err.code, err.reason.as_str()), (Code::InvalidArgument, "INVALID_FIELD"), "{bad:?}");
        assert_eq!(err.fields, ["serial_number"], "{bad:?}");
        let err =
            expect_err(c.serials.validate_serial(ValidateSerialRequest { serial_number: bad.into() }).await);
        assert_eq!(err.code, Code::InvalidArgument, "{bad:?}");
    }
    assert!(
        c.serials.get_serial(GetSerialRequest { serial_number: "x".repeat(64) }).await.unwrap_err().code()
            == Code::NotFound
    );

    let backwards = Serial { valid_from: ts(2_000_000_000), valid_until: ts(1_900_000_000), ..serial("W-1") };
    let items = vec![
        serial("OK-1"),
        backwards,
        serial("BAD ONE"),
        Serial { product_sku: "NOPE".into(), ..serial("OK-2") },
    ];
    let partial = c
        .serials
        .batch_create_serials(BatchCreateSerialsRequest { serials: items.clone(), ..Default::default() });
    let partial = partial.await.unwrap().into_inner();
    assert_eq!(partial.serials.iter().map(|s| s.serial_number.as_str()).collect::<Vec<_>>(), ["OK-1"]);
    let reasons: Vec<_> = partial.errors.iter().map(|e| (e.index, e.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [(1, "INVALID_VALIDITY_WINDOW"), (2, "INVALID_SERIAL_NUMBER"), (3, "UNKNOWN_PRODUCT_SKU")]
    );

    let atomic =
        BatchCreateSerialsRequest { serials: items[1..].to_vec(), atomic: true, ..Default::default() };
    let err = expect_err(c.serials.batch_create_serials(atomic).await);
    assert_eq!((err.code, err.reason.as_str()), (Code::InvalidArgument, "INVALID_FIELD"));
    assert!(err.fields.contains(&"serials[0].valid_until".to_owned()), "{:?}", err.fields);
    assert!(err.fields.contains(&"serials[1].serial_number".to_owned()), "{:?}", err.fields);

    let empty = expect_err(c.serials.batch_create_serials(BatchCreateSerialsRequest::default()).await);
    assert_eq!((empty.code, empty.fields.as_slice()), (Code::InvalidArgument, &["serials".to_owned()][..]));
    let plan = WarrantyPlan { name: "Zero".into(), duration_months: 0, ..Default::default() };
    let err = expect_err(
        c.catalog
            .create_warranty_plan(CreateWarrantyPlanRequest {
                warranty_plan: Some(plan),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(err.fields, ["warranty_plan.duration_months"]);
    let product =
        Product { sku: "P".into(), name: "P".into(), warranty_plan_id: "nope".into(), ..Default::default() };
    let err = expect_err(
        c.catalog.create_product(CreateProductRequest { product: Some(product), ..Default::default() }).await,
    );
    assert_eq!(
        (err.code, err.fields.as_slice()),
        (Code::InvalidArgument, &["product.warranty_plan_id".to_owned()][..])
    );
    svc.stop().await;
}

async fn a_batch_over_the_limit_reaches_the_service_not_the_transport(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut c = svc.clients(ORG).await;
    // 10,001 serials of ~500 bytes: over tonic's default 4 MiB, under the 16 MiB the API accepts.
    let tags: Vec<String> = (0..7).map(|i| format!("{i}-{}", "t".repeat(60))).collect();
    let serials = (0..10_001)
        .map(|i| Serial { customer_tags: tags.clone(), ..serial(&format!("BIG-{i:05}")) })
        .collect();
    let err = expect_err(
        c.serials.batch_create_serials(BatchCreateSerialsRequest { serials, ..Default::default() }).await,
    );
    assert_eq!(
        (err.code, err.reason.as_str(), err.fields.as_slice()),
        (Code::InvalidArgument, "BATCH_TOO_LARGE", &["serials".to_owned()][..])
    );
    let serials: Vec<Serial> = (0..10_000).map(|i| serial(&format!("MAX-{i:05}"))).collect();
    let full = c.serials.batch_create_serials(BatchCreateSerialsRequest { serials, ..Default::default() });
    assert_eq!(full.await.unwrap().into_inner().serials.len(), 10_000);
    svc.stop().await;
}

async fn auth_is_required_and_data_is_scoped_by_org(db: TestDb) {
    let svc = SerialSvc::start(db).await;
    let mut acme = svc.clients(ORG).await;
    create(&mut acme, &["SECRET-1"]).await;
    let get = || GetSerialRequest { serial_number: "SECRET-1".into() };

    for header in [None, Some("Bearer not-a-jwt".to_owned()), Some("Basic dXNlcjpwdw==".to_owned())] {
        let mut anon = Clients::with_header(svc.channel().await, header.clone());
        let err = expect_err(anon.serials.get_serial(get()).await);
        assert_eq!((err.code, err.reason.as_str()), (Code::Unauthenticated, "UNAUTHENTICATED"), "{header:?}");
    }
    let wrong_secret = shared::auth::mint_hs256(
        b"other",
        ORG,
        "x",
        &[Scope::SerialsRead],
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    let mut forged = Clients::new(svc.channel().await, wrong_secret);
    assert_eq!(expect_err(forged.serials.get_serial(get()).await).code, Code::Unauthenticated);

    let mut reader = Clients::new(svc.channel().await, svc.token(ORG, &[Scope::SerialsRead]));
    reader.serials.get_serial(get()).await.expect("serials:read may read");
    let err = expect_err(
        reader
            .serials
            .revoke_serial(RevokeSerialRequest {
                serial_number: "SECRET-1".into(),
                reason: "x".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (Code::PermissionDenied, "MISSING_SCOPE"));
    let mut registrar = Clients::new(svc.channel().await, svc.token(ORG, &[Scope::RegistrationsWrite]));
    let claim = ClaimSerialRequest {
        serial_number: "SECRET-1".into(),
        claimant: "reg-1".into(),
        ..Default::default()
    };
    registrar
        .serials
        .claim_serial(claim.clone())
        .await
        .expect("registrations:write may claim (forwarded token)");

    let mut globex = svc.clients("globex").await;
    let err = expect_err(globex.serials.get_serial(get()).await);
    assert_eq!(err.code, Code::NotFound, "another org's serial does not exist for it");
    assert_eq!(expect_err(globex.serials.claim_serial(claim).await).code, Code::NotFound);
    let listed = globex.serials.list_serials(ListSerialsRequest::default()).await.unwrap().into_inner();
    assert!(listed.serials.is_empty());
    svc.stop().await;
}
