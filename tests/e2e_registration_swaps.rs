//! registration-svc end to end: `SwapSerial` and `ResetSerial`, each checked in serial-svc too;
//! on SQLite and on PostgreSQL.

mod support;

use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::TestDb;
use support::ORG;
use support::grpc::expect_err;
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    a_swap_claims_the_new_serial_releases_the_old_and_keeps_the_registration,
    a_swap_to_a_serial_that_cannot_be_claimed_changes_nothing,
    a_swap_to_a_serial_the_registration_already_holds_changes_nothing,
    a_reset_erases_the_customer_cancels_and_frees_the_serial,
);

async fn a_swap_claims_the_new_serial_releases_the_old_and_keeps_the_registration(db: TestDb) {
    let pair = Pair::with_serials(db, &["S-OLD", "S-KEEP", "S-NEW"]).await;
    let mut c = pair.registrations(ORG);
    let created = register(&mut c, "ada@example.com", &["S-OLD", "S-KEEP"]).await;
    let swap = SwapSerialRequest {
        serial_number: "s-old".into(),
        new_serial_number: "S-NEW".into(),
        request_id: new_request_id(),
    };
    let swapped = c.swap_serial(swap.clone()).await.unwrap().into_inner();
    assert_eq!(
        (swapped.id.as_str(), swapped.registration_number.as_str(), swapped.customer_email.as_str()),
        (created.id.as_str(), created.registration_number.as_str(), created.customer_email.as_str())
    );
    assert_eq!(swapped.status(), RegistrationStatus::Pending);
    let held: Vec<_> = swapped.line_items.iter().map(|i| i.serial_number.to_ascii_uppercase()).collect();
    assert_eq!(held, ["S-NEW", "S-KEEP"], "the line item keeps its place");
    assert_eq!(claim_of(&pair, ORG, "S-NEW").await, (SerialStatus::Registered, created.id.clone()));
    assert_eq!(claim_of(&pair, ORG, "S-KEEP").await, (SerialStatus::Registered, created.id.clone()));
    wait_for_release(&pair, ORG, "S-OLD").await;
    assert_eq!(c.swap_serial(swap).await.unwrap().into_inner().id, created.id, "a replay answers the same");

    let lookup = LookupRegistrationRequest {
        key: Some(lookup_registration_request::Key::SerialNumber("S-NEW".into())),
    };
    assert_eq!(c.lookup_registration(lookup).await.unwrap().into_inner().id, created.id);
    let old = LookupRegistrationRequest {
        key: Some(lookup_registration_request::Key::SerialNumber("S-OLD".into())),
    };
    assert_eq!(expect_err(c.lookup_registration(old).await).code, Code::NotFound);
    // The old serial is free for anyone now.
    let other = register(&mut c, "bob@example.com", &["S-OLD"]).await;
    assert_eq!(claim_of(&pair, ORG, "S-OLD").await, (SerialStatus::Registered, other.id));
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_swap_to_a_serial_that_cannot_be_claimed_changes_nothing(db: TestDb) {
    let pair = Pair::with_serials(db, &["X-MINE", "X-TAKEN", "X-REVOKED", "X-FREE"]).await;
    revoke(&pair, ORG, "X-REVOKED").await;
    let mut c = pair.registrations(ORG);
    let mine = register(&mut c, "ada@example.com", &["X-MINE"]).await;
    let theirs = register(&mut c, "bob@example.com", &["X-TAKEN"]).await;
    let cases = [
        ("X-MINE", "X-TAKEN", Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"),
        ("X-MINE", "X-REVOKED", Code::FailedPrecondition, "SERIAL_REVOKED"),
        ("X-MINE", "X-404", Code::NotFound, "SERIAL_NOT_FOUND"),
    ];
    for (old, new, code, reason) in cases {
        let swap = SwapSerialRequest {
            serial_number: old.into(),
            new_serial_number: new.into(),
            ..Default::default()
        };
        let err = expect_err(c.swap_serial(swap).await);
        assert_eq!(
            (err.code, err.reason.as_str(), err.domain.as_str()),
            (code, reason, "registration.regserial")
        );
        assert_eq!(get(&mut c, &mine.id).await, mine, "{new}: the registration is unchanged");
        assert_eq!(
            claim_of(&pair, ORG, "X-MINE").await,
            (SerialStatus::Registered, mine.id.clone()),
            "{new}"
        );
    }
    assert_eq!(claim_of(&pair, ORG, "X-TAKEN").await, (SerialStatus::Registered, theirs.id.clone()));
    assert_eq!(claim_of(&pair, ORG, "X-REVOKED").await.0, SerialStatus::Revoked);
    // A serial nobody holds has no registration to swap.
    let swap = SwapSerialRequest {
        serial_number: "X-FREE".into(),
        new_serial_number: "X-MINE".into(),
        ..Default::default()
    };
    assert_eq!(expect_err(c.swap_serial(swap).await).code, Code::NotFound);
    assert_eq!(claim_of(&pair, ORG, "X-MINE").await, (SerialStatus::Registered, mine.id.clone()));
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_swap_to_a_serial_the_registration_already_holds_changes_nothing(db: TestDb) {
    let pair = Pair::with_serials(db, &["H-1", "H-2"]).await;
    let mut c = pair.registrations(ORG);
    let reg = register(&mut c, "ada@example.com", &["H-1", "H-2"]).await;
    // Claims are idempotent by claimant, so serial-svc accepts these claims: the registration
    // must still not end up holding one serial twice, nor lose the claim of one it holds.
    for (old, new) in [("H-1", "H-2"), ("H-1", "H-1"), ("H-1", "h-1")] {
        let swap = SwapSerialRequest {
            serial_number: old.into(),
            new_serial_number: new.into(),
            ..Default::default()
        };
        if let Ok(swapped) = c.swap_serial(swap).await {
            let held: Vec<_> = swapped
                .into_inner()
                .line_items
                .iter()
                .map(|i| i.serial_number.to_ascii_uppercase())
                .collect();
            assert_eq!(held, ["H-1", "H-2"], "{old} -> {new} accepted as a no-op only");
        }
        let now = get(&mut c, &reg.id).await;
        let held: Vec<_> = now.line_items.iter().map(|i| i.serial_number.to_ascii_uppercase()).collect();
        assert_eq!(held, ["H-1", "H-2"], "{old} -> {new}");
        assert_invariants(&pair, ORG).await;
        for number in ["H-1", "H-2"] {
            assert_eq!(
                claim_of(&pair, ORG, number).await,
                (SerialStatus::Registered, reg.id.clone()),
                "{old} -> {new}"
            );
        }
    }
    pair.stop().await;
}

async fn a_reset_erases_the_customer_cancels_and_frees_the_serial(db: TestDb) {
    let pair = Pair::with_serials(db, &["Z-1", "Z-2"]).await;
    let mut c = pair.registrations(ORG);
    let mut new = registration("ada@example.com", &["Z-1", "Z-2"]);
    new.customer_phone = "+44 20 7946 0000".into();
    let created = c.create_registration(create_request(new, None)).await.unwrap().into_inner();
    let approve = ApproveRegistrationRequest { id: created.id.clone(), ..Default::default() };
    c.approve_registration(approve).await.unwrap();

    let reset = ResetSerialRequest { serial_number: "z-1".into(), ..Default::default() };
    let reset = c.reset_serial(reset).await.unwrap().into_inner();
    assert_eq!((reset.id.as_str(), reset.status()), (created.id.as_str(), RegistrationStatus::Canceled));
    let stored = get(&mut c, &created.id).await;
    for r in [&reset, &stored] {
        assert!(r.customer_name.is_empty() && r.customer_phone.is_empty(), "customer data erased: {r:?}");
        assert_ne!(r.customer_email, "ada@example.com", "customer email erased");
    }
    // A CANCELED registration holds nothing: its other serial is released too.
    wait_for_release(&pair, ORG, "Z-1").await;
    wait_for_release(&pair, ORG, "Z-2").await;
    let again = register(&mut c, "bob@example.com", &["Z-1"]).await;
    assert_eq!(claim_of(&pair, ORG, "Z-1").await, (SerialStatus::Registered, again.id));
    let unheld = ResetSerialRequest { serial_number: "Z-404".into(), ..Default::default() };
    assert_eq!(expect_err(c.reset_serial(unheld).await).code, Code::NotFound);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
