//! registration-svc end to end, after creation: updates, the review workflow, cancelation,
//! replays and expiry, each checked in serial-svc too; on SQLite and on PostgreSQL. Swaps and
//! resets are in `e2e_registration_swaps.rs`.

mod support;

use prost_types::FieldMask;
use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::TestDb;
use support::ORG;
use support::grpc::expect_err;
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    update_changes_only_the_customer_fields_the_mask_names,
    approve_deny_and_cancel_follow_the_review_workflow,
    replaying_a_create_after_a_swap_or_a_cancel_claims_nothing_again,
    pending_registrations_expire_after_the_review_period,
);

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

fn transition(err: &support::grpc::Failure) -> (Code, &str) {
    (err.code, err.reason.as_str())
}

const REFUSED: (Code, &str) = (Code::FailedPrecondition, "INVALID_STATE_TRANSITION");

async fn update_changes_only_the_customer_fields_the_mask_names(db: TestDb) {
    let pair = Pair::with_serials(db, &["U-1"]).await;
    let mut c = pair.registrations(ORG);
    let created = register(&mut c, "ada@example.com", &["U-1"]).await;

    let mut body = created.clone();
    body.customer_name = "Ada King".into();
    body.customer_phone = "+44 20 7946 0000".into();
    body.custom_fields.insert("colour".into(), "blue".into());
    let update = UpdateRegistrationRequest {
        registration: Some(body.clone()),
        update_mask: mask(&["customer_name", "custom_fields"]),
        ..Default::default()
    };
    let updated = c.update_registration(update).await.unwrap().into_inner();
    assert_eq!(updated.customer_name, "Ada King");
    assert_eq!(updated.custom_fields.get("colour").map(String::as_str), Some("blue"));
    assert_eq!(updated.customer_phone, created.customer_phone, "not in the mask: unchanged");
    assert_eq!((updated.id.as_str(), updated.status()), (created.id.as_str(), RegistrationStatus::Pending));
    assert_eq!(get(&mut c, &created.id).await, updated);

    let mut status = body.clone();
    status.status = RegistrationStatus::Approved.into();
    let mut serials = body.clone();
    serials.line_items[0].serial_number = "U-2".into();
    let mut email = body.clone();
    email.customer_email = "not-an-email".into();
    let refused = [
        (status, "status", "update_mask"),
        (serials.clone(), "line_items", "update_mask"),
        (serials, "line_items.serial_number", "update_mask"),
        (body.clone(), "no_such_field", "update_mask"),
        (email, "customer_email", "customer_email"),
    ];
    for (registration, path, field) in refused {
        let update = UpdateRegistrationRequest {
            registration: Some(registration),
            update_mask: mask(&[path]),
            ..Default::default()
        };
        let err = expect_err(c.update_registration(update).await);
        assert_eq!(err.code, Code::InvalidArgument, "{path}");
        assert!(err.fields.iter().any(|f| f.contains(field)), "{path}: {:?}", err.fields);
    }
    let after = get(&mut c, &created.id).await;
    assert_eq!(after, updated, "refused updates changed nothing");
    let mut moved = after.clone();
    moved.customer_email = "ada@example.org".into();
    let update = UpdateRegistrationRequest {
        registration: Some(moved),
        update_mask: mask(&["customer_email"]),
        ..Default::default()
    };
    let updated = c.update_registration(update).await.unwrap().into_inner();
    assert_eq!(updated.customer_email, "ada@example.org");
    let by_email =
        ListRegistrationsRequest { customer_email: "ada@example.org".into(), ..Default::default() };
    assert_eq!(list_all(&mut c, by_email).await.unwrap(), vec![updated.clone()], "listed by the new email");
    let old_email =
        ListRegistrationsRequest { customer_email: "ada@example.com".into(), ..Default::default() };
    assert!(list_all(&mut c, old_email).await.unwrap().is_empty(), "not by the old one");
    assert_eq!(claim_of(&pair, ORG, "U-1").await, (SerialStatus::Registered, created.id.clone()));

    let mut gone = body;
    gone.id = uuid::Uuid::new_v4().to_string();
    let update = UpdateRegistrationRequest {
        registration: Some(gone),
        update_mask: mask(&["customer_name"]),
        ..Default::default()
    };
    assert_eq!(expect_err(c.update_registration(update).await).code, Code::NotFound);
    pair.stop().await;
}

async fn approve_deny_and_cancel_follow_the_review_workflow(db: TestDb) {
    let pair = Pair::with_serials(db, &["W-1", "W-2", "W-3"]).await;
    let mut c = pair.registrations(ORG);
    let a = register(&mut c, "a@example.com", &["W-1"]).await;
    let b = register(&mut c, "b@example.com", &["W-2"]).await;
    let p = register(&mut c, "p@example.com", &["W-3"]).await;

    let approved =
        c.approve_registration(ApproveRegistrationRequest { id: a.id.clone(), ..Default::default() });
    let approved = approved.await.unwrap().into_inner();
    assert_eq!(approved.status(), RegistrationStatus::Approved);
    assert!(approved.review_time.is_some());
    assert_eq!(claim_of(&pair, ORG, "W-1").await, (SerialStatus::Registered, a.id.clone()), "approved holds");

    let deny =
        DenyRegistrationRequest { id: b.id.clone(), reason: "no receipt".into(), ..Default::default() };
    let denied = c.deny_registration(deny).await.unwrap().into_inner();
    assert_eq!((denied.status(), denied.denial_reason.as_str()), (RegistrationStatus::Denied, "no receipt"));
    assert!(denied.review_time.is_some());
    wait_for_release(&pair, ORG, "W-2").await;

    let approve = |id: &str| ApproveRegistrationRequest { id: id.into(), ..Default::default() };
    let deny = |id: &str| DenyRegistrationRequest { id: id.into(), reason: "x".into(), ..Default::default() };
    let cancel = |id: &str| CancelRegistrationRequest { id: id.into(), ..Default::default() };
    let err = expect_err(c.approve_registration(approve(&a.id)).await);
    assert_eq!(transition(&err), REFUSED, "approve APPROVED");
    assert!(err.has_precondition_failure);
    assert_eq!(transition(&expect_err(c.deny_registration(deny(&a.id)).await)), REFUSED, "deny APPROVED");
    assert_eq!(
        transition(&expect_err(c.approve_registration(approve(&b.id)).await)),
        REFUSED,
        "approve DENIED"
    );
    assert_eq!(transition(&expect_err(c.deny_registration(deny(&b.id)).await)), REFUSED, "deny DENIED");
    assert_eq!(transition(&expect_err(c.cancel_registration(cancel(&b.id)).await)), REFUSED, "cancel DENIED");
    assert_eq!(get(&mut c, &b.id).await.status(), RegistrationStatus::Denied);

    let keyed = CancelRegistrationRequest { id: a.id.clone(), request_id: new_request_id() };
    let canceled = c.cancel_registration(keyed.clone()).await.unwrap().into_inner();
    assert_eq!(canceled.status(), RegistrationStatus::Canceled);
    assert!(canceled.cancel_time.is_some());
    let replayed = c.cancel_registration(keyed).await.expect("a retry with the request_id replays");
    assert_eq!(replayed.into_inner(), canceled, "the first answer, not INVALID_STATE_TRANSITION");
    wait_for_release(&pair, ORG, "W-1").await;
    let by_serial =
        LookupRegistrationRequest { key: Some(lookup_registration_request::Key::SerialNumber("W-1".into())) };
    assert_eq!(expect_err(c.lookup_registration(by_serial).await).code, Code::NotFound, "W-1 is not held");
    let pending = c.cancel_registration(cancel(&p.id)).await.unwrap().into_inner();
    assert_eq!(pending.status(), RegistrationStatus::Canceled, "a PENDING one can be canceled too");
    wait_for_release(&pair, ORG, "W-3").await;
    assert_eq!(transition(&expect_err(c.approve_registration(approve(&a.id)).await)), REFUSED, "CANCELED");
    assert_eq!(transition(&expect_err(c.deny_registration(deny(&p.id)).await)), REFUSED, "CANCELED");
    assert_eq!(get(&mut c, &a.id).await.status(), RegistrationStatus::Canceled);

    // Released serials can be registered again.
    let again = register(&mut c, "c@example.com", &["W-1", "W-2", "W-3"]).await;
    assert_eq!(claim_of(&pair, ORG, "W-2").await, (SerialStatus::Registered, again.id.clone()));
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn replaying_a_create_after_a_swap_or_a_cancel_claims_nothing_again(db: TestDb) {
    let pair = Pair::with_serials(db, &["RP-A", "RP-B", "RP-C"]).await;
    let mut c = pair.registrations(ORG);
    let swapped = create_request(registration("ada@example.com", &["RP-A"]), Some(&new_request_id()));
    let first = c.create_registration(swapped.clone()).await.unwrap().into_inner();
    let swap = SwapSerialRequest {
        serial_number: "RP-A".into(),
        new_serial_number: "RP-B".into(),
        ..Default::default()
    };
    c.swap_serial(swap).await.unwrap();
    wait_for_release(&pair, ORG, "RP-A").await;
    let replay = c.create_registration(swapped).await.expect("the replay answers").into_inner();
    assert_eq!(replay.id, first.id, "the same registration");
    assert_eq!(
        claim_of(&pair, ORG, "RP-A").await.0,
        SerialStatus::Active,
        "the swapped-out serial stays free"
    );

    let canceled = create_request(registration("bob@example.com", &["RP-C"]), Some(&new_request_id()));
    let second = c.create_registration(canceled.clone()).await.unwrap().into_inner();
    c.cancel_registration(CancelRegistrationRequest { id: second.id.clone(), ..Default::default() })
        .await
        .unwrap();
    wait_for_release(&pair, ORG, "RP-C").await;
    let replay = c.create_registration(canceled).await.expect("the replay answers").into_inner();
    assert_eq!(replay.id, second.id, "the same registration");
    assert_eq!(
        claim_of(&pair, ORG, "RP-C").await.0,
        SerialStatus::Active,
        "a canceled registration claims nothing"
    );
    assert_eq!(get(&mut c, &second.id).await.status(), RegistrationStatus::Canceled);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn pending_registrations_expire_after_the_review_period(db: TestDb) {
    let options = PairOptions {
        manual_clock: Some(chrono::Utc::now()),
        registration_flags: vec!["--review-period-days".into(), "30".into()],
        ..PairOptions::default()
    };
    let pair = Pair::start_with(db, options).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["E-PENDING", "E-APPROVED", "E-LATE"]).await;
    let mut c = pair.registrations(ORG);
    let pending = register(&mut c, "a@example.com", &["E-PENDING"]).await;
    let approved = register(&mut c, "b@example.com", &["E-APPROVED"]).await;
    c.approve_registration(ApproveRegistrationRequest { id: approved.id.clone(), ..Default::default() })
        .await
        .unwrap();

    pair.advance(chrono::Duration::days(29));
    let late = register(&mut c, "c@example.com", &["E-LATE"]).await;
    assert_eq!(get(&mut c, &pending.id).await.status(), RegistrationStatus::Pending, "day 29: still pending");
    pair.advance(chrono::Duration::days(2));
    let mut client = c.clone();
    let id = pending.id.clone();
    eventually("the sweeper to expire the registration", || {
        let (mut c, id) = (client.clone(), id.clone());
        async move { (get(&mut c, &id).await.status() == RegistrationStatus::Expired).then_some(()) }
    })
    .await;
    wait_for_release(&pair, ORG, "E-PENDING").await;
    assert_eq!(get(&mut client, &approved.id).await.status(), RegistrationStatus::Approved, "approved stays");
    assert_eq!(claim_of(&pair, ORG, "E-APPROVED").await, (SerialStatus::Registered, approved.id.clone()));
    assert_eq!(get(&mut client, &late.id).await.status(), RegistrationStatus::Pending, "2 days old");
    let approve = ApproveRegistrationRequest { id: pending.id.clone(), ..Default::default() };
    assert_eq!(transition(&expect_err(client.approve_registration(approve).await)), REFUSED);
    let again = register(&mut client, "d@example.com", &["E-PENDING"]).await;
    assert_eq!(claim_of(&pair, ORG, "E-PENDING").await, (SerialStatus::Registered, again.id));
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
