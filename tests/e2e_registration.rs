//! registration-svc end to end, creation and reads: both services over real gRPC on loopback,
//! on SQLite and on PostgreSQL.

mod support;

use chrono::{DateTime, Months, TimeZone, Utc};
use prost_types::Timestamp;
use regserial::registration::v1::batch_create_registrations_result::Result as BatchResult;
use regserial::registration::v1::lookup_registration_request::Key;
use regserial::registration::v1::*;
use regserial::serial::v1::{
    BatchCreateSerialsRequest, ListSerialEventsRequest, Serial, SerialEventType, SerialStatus,
};
use shared::testing::TestDb;
use support::ORG;
use support::grpc::{expect_err, failure};
use support::registration::*;
use tonic::Code;

const DOMAIN: &str = "registration.regserial";

shared::per_backend!(
    a_registration_claims_its_serials_and_carries_the_warranty_and_a_sequential_number,
    a_request_id_replays_the_first_registration_and_claims_nothing_twice,
    a_batch_creates_each_item_alone_and_refuses_more_than_100,
    get_lookup_and_list_find_registrations_by_their_keys,
    refused_serials_leave_nothing_claimed,
    bad_input_is_refused_naming_the_field_and_claims_nothing,
    a_token_is_required_and_another_orgs_registrations_do_not_exist,
);

fn ts(t: DateTime<Utc>) -> Option<Timestamp> {
    Some(Timestamp { seconds: t.timestamp(), nanos: 0 })
}

async fn a_registration_claims_its_serials_and_carries_the_warranty_and_a_sequential_number(db: TestDb) {
    let pair = Pair::with_serials(db, &["SN-001", "SN-002", "SN-003", "SN-004"]).await;
    let mut c = pair.registrations(ORG);

    let bought = Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap();
    let mut new = registration("ada@example.com", &["SN-001", "sn-002"]);
    new.purchase_date = ts(bought);
    new.channel_name = "web".into();
    new.custom_fields.insert("colour".into(), "red".into());
    let created = c.create_registration(create_request(new, None)).await.unwrap().into_inner();
    assert_eq!(created.status(), RegistrationStatus::Pending);
    assert!(!created.id.is_empty() && created.create_time.is_some());
    assert_eq!(created.form_slug, "product-registration", "the default form slug");
    assert_eq!((created.customer_email.as_str(), created.channel_name.as_str()), ("ada@example.com", "web"));
    assert_eq!(created.custom_fields.get("colour").map(String::as_str), Some("red"));
    let warranty = created.warranty.clone().expect("a warranty");
    assert_eq!((warranty.plan_id.as_str(), warranty.plan_name.as_str()), (PLAN_ID, PLAN_NAME));
    assert_eq!(warranty.coverage_start, ts(bought), "coverage starts at the purchase date");
    assert_eq!(warranty.coverage_end, ts(bought.checked_add_months(Months::new(PLAN_MONTHS)).unwrap()));
    assert_eq!(created.line_items.len(), 2);
    for item in &created.line_items {
        assert_eq!(item.warranty.as_ref().map(|w| w.plan_id.as_str()), Some(PLAN_ID), "{item:?}");
    }
    for number in ["SN-001", "SN-002"] {
        assert_eq!(claim_of(&pair, ORG, number).await, (SerialStatus::Registered, created.id.clone()));
    }
    assert_eq!(claim_of(&pair, ORG, "SN-003").await.0, SerialStatus::Active);

    let second = register(&mut c, "bob@example.com", &["SN-003"]).await;
    let third = register(&mut c, "cy@example.com", &["SN-004"]).await;
    let numbers = [&created, &second, &third].map(|r| r.registration_number.clone());
    assert!(numbers.iter().all(|n| !n.is_empty()), "{numbers:?}");
    assert_eq!(
        numbers.iter().map(|n| sequence(n)).collect::<Vec<_>>(),
        (0..3).map(|i| sequence(&numbers[0]) + i).collect::<Vec<_>>(),
        "numbers are sequential per org: {numbers:?}"
    );

    // Another org numbers its own registrations and cannot see these.
    seed_catalog(&pair, "globex").await;
    add_serials(&pair, "globex", &["SN-001"]).await;
    let mut globex = pair.registrations("globex");
    let theirs = register(&mut globex, "g@example.com", &["SN-001"]).await;
    assert!(!numbers.contains(&theirs.registration_number), "{}", theirs.registration_number);
    assert_invariants(&pair, ORG).await;
    assert_invariants(&pair, "globex").await;
    pair.stop().await;
}

async fn a_request_id_replays_the_first_registration_and_claims_nothing_twice(db: TestDb) {
    let pair = Pair::with_serials(db, &["RQ-1", "RQ-2"]).await;
    let mut c = pair.registrations(ORG);
    let id = new_request_id();
    let request = create_request(registration("ada@example.com", &["RQ-1"]), Some(&id));
    let first = c.create_registration(request.clone()).await.unwrap().into_inner();
    let again = c.create_registration(request.clone()).await.unwrap().into_inner();
    assert_eq!(first, again, "the retry answers the first registration");
    let listed = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(listed.len(), 1, "one registration for one request_id");
    let events = ListSerialEventsRequest { serial_number: "RQ-1".into(), ..Default::default() };
    let events = pair.serials(ORG).serials.list_serial_events(events).await.unwrap().into_inner().events;
    let claims = events.iter().filter(|e| e.r#type() == SerialEventType::Claimed).count();
    assert_eq!(claims, 1, "claimed once: {events:?}");

    let other_body = create_request(registration("ada@example.com", &["RQ-2"]), Some(&id));
    let err = expect_err(c.create_registration(other_body).await);
    assert_eq!(
        (err.code, err.reason.as_str(), err.domain.as_str()),
        (Code::InvalidArgument, "REQUEST_ID_REUSED", DOMAIN)
    );
    assert_eq!(claim_of(&pair, ORG, "RQ-2").await.0, SerialStatus::Active, "the reused id claimed nothing");
    let malformed = create_request(registration("ada@example.com", &["RQ-2"]), Some("not-a-uuid"));
    let err = expect_err(c.create_registration(malformed).await);
    assert_eq!((err.code, err.fields.as_slice()), (Code::InvalidArgument, &["request_id".to_owned()][..]));
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_batch_creates_each_item_alone_and_refuses_more_than_100(db: TestDb) {
    let pair = Pair::with_serials(db, &["B-1", "B-2", "B-3", "B-HELD"]).await;
    let mut c = pair.registrations(ORG);
    let held = register(&mut c, "held@example.com", &["B-HELD"]).await;
    let requests = vec![
        create_request(registration("a@example.com", &["B-1"]), Some(&new_request_id())),
        create_request(registration("b@example.com", &["B-404"]), None),
        create_request(registration("not an email", &["B-4"]), None),
        create_request(registration("c@example.com", &["B-HELD"]), None),
        create_request(registration("d@example.com", &["B-2", "B-3"]), None),
    ];
    let batch = BatchCreateRegistrationsRequest { requests: requests.clone() };
    let results = c.batch_create_registrations(batch).await.unwrap().into_inner().results;
    assert_eq!(results.len(), 5, "one result per request, in order");
    let outcome = |i: usize| match results[i].result.clone().expect("a result") {
        BatchResult::Registration(r) => Ok(r),
        BatchResult::Error(e) => {
            let status = tonic::Status::with_details(
                Code::from(e.code),
                e.message.clone(),
                prost::Message::encode_to_vec(&e).into(),
            );
            Err(Box::new(failure(&status)))
        }
    };
    let a = outcome(0).expect("item 0 succeeds");
    let d = outcome(4).expect("item 4 succeeds");
    let missing = outcome(1).expect_err("item 1: unknown serial");
    assert_eq!((missing.code, missing.reason.as_str()), (Code::NotFound, "SERIAL_NOT_FOUND"));
    let invalid = outcome(2).expect_err("item 2: invalid email");
    assert_eq!((invalid.code, invalid.reason.as_str()), (Code::InvalidArgument, "INVALID_FIELD"));
    assert!(invalid.fields.iter().any(|f| f.contains("customer_email")), "{:?}", invalid.fields);
    let taken = outcome(3).expect_err("item 3: B-HELD is taken");
    assert_eq!((taken.code, taken.reason.as_str()), (Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"));
    assert_eq!(claim_of(&pair, ORG, "B-1").await, (SerialStatus::Registered, a.id.clone()));
    assert_eq!(claim_of(&pair, ORG, "B-3").await, (SerialStatus::Registered, d.id.clone()));
    assert_eq!(claim_of(&pair, ORG, "B-HELD").await, (SerialStatus::Registered, held.id.clone()));
    assert_eq!(list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().len(), 3);
    // An item alone, retried with its request_id, replays the batch's answer.
    let alone = c.create_registration(requests[0].clone()).await.unwrap().into_inner();
    assert_eq!(alone.id, a.id);

    let too_many = (0..101)
        .map(|i| create_request(registration(&format!("x{i}@example.com"), &[&format!("X-{i}")]), None))
        .collect();
    let err = expect_err(
        c.batch_create_registrations(BatchCreateRegistrationsRequest { requests: too_many }).await,
    );
    assert_eq!(
        (err.code, err.reason.as_str(), err.domain.as_str()),
        (Code::InvalidArgument, "BATCH_TOO_LARGE", DOMAIN)
    );
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn get_lookup_and_list_find_registrations_by_their_keys(db: TestDb) {
    let pair = Pair::with_serials(db, &["L-1", "L-2", "L-3", "L-FREE"]).await;
    let mut c = pair.registrations(ORG);
    let mut web = registration("ada@example.com", &["L-1"]);
    web.channel_name = "web".into();
    let web = c.create_registration(create_request(web, None)).await.unwrap().into_inner();
    let mut shop = registration("bob@example.com", &["L-2"]);
    shop.channel_name = "shop".into();
    shop.form_slug = "in-store".into();
    let shop = c.create_registration(create_request(shop, None)).await.unwrap().into_inner();
    let third = register(&mut c, "ada@example.com", &["L-3"]).await;
    let approve = ApproveRegistrationRequest { id: shop.id.clone(), ..Default::default() };
    let shop = c.approve_registration(approve).await.unwrap().into_inner();

    let got = c.get_registration(GetRegistrationRequest { id: web.id.clone() }).await.unwrap().into_inner();
    assert_eq!(got, web);
    let by_number =
        LookupRegistrationRequest { key: Some(Key::RegistrationNumber(shop.registration_number.clone())) };
    assert_eq!(c.lookup_registration(by_number).await.unwrap().into_inner().id, shop.id);
    let by_serial = LookupRegistrationRequest { key: Some(Key::SerialNumber("l-3".into())) };
    assert_eq!(c.lookup_registration(by_serial).await.unwrap().into_inner().id, third.id, "case-insensitive");
    let unheld = LookupRegistrationRequest { key: Some(Key::SerialNumber("L-FREE".into())) };
    let err = expect_err(c.lookup_registration(unheld).await);
    assert_eq!((err.code, err.domain.as_str()), (Code::NotFound, DOMAIN));
    let missing =
        expect_err(c.get_registration(GetRegistrationRequest { id: uuid::Uuid::new_v4().to_string() }).await);
    assert_eq!((missing.code, missing.domain.as_str()), (Code::NotFound, DOMAIN));
    assert!(missing.has_resource_info, "NOT_FOUND carries ResourceInfo");

    let ids = |list: Vec<Registration>| list.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let query = |q: ListRegistrationsRequest| {
        let mut c = c.clone();
        async move { ids(list_all(&mut c, q).await.unwrap()) }
    };
    let newest_first = vec![third.id.clone(), shop.id.clone(), web.id.clone()];
    assert_eq!(query(ListRegistrationsRequest::default()).await, newest_first, "default: create_time desc");
    let asc = ListRegistrationsRequest { order_by: "create_time asc".into(), ..Default::default() };
    assert_eq!(query(asc).await, newest_first.iter().rev().cloned().collect::<Vec<_>>());
    let by_email =
        ListRegistrationsRequest { customer_email: "ada@example.com".into(), ..Default::default() };
    assert_eq!(query(by_email).await, vec![third.id.clone(), web.id.clone()]);
    let by_channel = ListRegistrationsRequest { channel_name: "web".into(), ..Default::default() };
    assert_eq!(query(by_channel).await, vec![web.id.clone()]);
    let by_number = ListRegistrationsRequest {
        registration_number: third.registration_number.clone(),
        ..Default::default()
    };
    assert_eq!(query(by_number).await, vec![third.id.clone()]);
    let by_form = ListRegistrationsRequest { form_slug: "in-store".into(), ..Default::default() };
    assert_eq!(query(by_form).await, vec![shop.id.clone()]);
    let by_status =
        ListRegistrationsRequest { status: RegistrationStatus::Approved.into(), ..Default::default() };
    assert_eq!(query(by_status).await, vec![shop.id.clone()]);

    let unknown_status = ListRegistrationsRequest { status: 99, ..Default::default() };
    let err = expect_err(c.list_registrations(unknown_status).await);
    assert_eq!((err.code, err.reason.as_str()), (Code::InvalidArgument, "INVALID_FIELD"));
    assert!(err.fields.iter().any(|f| f.contains("status")), "{:?}", err.fields);
    let bad_order = ListRegistrationsRequest { order_by: "customer_email".into(), ..Default::default() };
    let err = expect_err(c.list_registrations(bad_order).await);
    assert!(
        err.code == Code::InvalidArgument && err.fields.iter().any(|f| f.contains("order_by")),
        "{err:?}"
    );
    pair.stop().await;
}

async fn refused_serials_leave_nothing_claimed(db: TestDb) {
    let pair = Pair::with_serials(db, &["R-OK", "R-TAKEN", "R-REVOKED"]).await;
    revoke(&pair, ORG, "R-REVOKED").await;
    let now = Utc::now();
    let windows = [
        ("R-EXPIRED", None, ts(now - chrono::Duration::days(1)), None),
        ("R-FUTURE", ts(now + chrono::Duration::days(30)), None, None),
        ("R-LATE", None, None, ts(now - chrono::Duration::days(1))),
    ];
    let serials = windows
        .iter()
        .map(|(n, valid_from, valid_until, register_until)| Serial {
            serial_number: (*n).into(),
            product_sku: SKU.into(),
            valid_from: *valid_from,
            valid_until: *valid_until,
            register_until: *register_until,
            ..Default::default()
        })
        .collect();
    let batch = BatchCreateSerialsRequest { serials, atomic: true, ..Default::default() };
    pair.serials(ORG).serials.batch_create_serials(batch).await.unwrap();
    let mut c = pair.registrations(ORG);
    let holder = register(&mut c, "holder@example.com", &["R-TAKEN"]).await;

    let cases = [
        ("R-404", Code::NotFound, "SERIAL_NOT_FOUND"),
        ("R-TAKEN", Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"),
        ("R-REVOKED", Code::FailedPrecondition, "SERIAL_REVOKED"),
        ("R-EXPIRED", Code::FailedPrecondition, "SERIAL_EXPIRED"),
        ("R-FUTURE", Code::FailedPrecondition, "SERIAL_NOT_YET_VALID"),
        ("R-LATE", Code::FailedPrecondition, "SERIAL_REGISTRATION_PERIOD_ENDED"),
    ];
    for (bad, code, reason) in cases {
        // The good serial first, so that it is claimed before the refusal and must be released.
        let request =
            create_request(registration("ada@example.com", &["R-OK", bad]), Some(&new_request_id()));
        let err = expect_err(c.create_registration(request.clone()).await);
        assert_eq!((err.code, err.reason.as_str(), err.domain.as_str()), (code, reason, DOMAIN), "{bad}");
        assert!(
            err.metadata.values().any(|v| v.eq_ignore_ascii_case(bad)),
            "names {bad}: {:?}",
            err.metadata
        );
        if code == Code::FailedPrecondition {
            assert!(err.has_precondition_failure, "{bad}");
        }
        let replay = expect_err(c.create_registration(request).await);
        assert_eq!((replay.code, replay.reason.as_str()), (code, reason), "a retry answers the same refusal");
        wait_for_release(&pair, ORG, "R-OK").await;
    }
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [holder.id.as_str()]);
    assert_eq!(claim_of(&pair, ORG, "R-TAKEN").await, (SerialStatus::Registered, holder.id.clone()));
    assert_eq!(claim_of(&pair, ORG, "R-REVOKED").await.0, SerialStatus::Revoked);
    assert_invariants(&pair, ORG).await;
    register(&mut c, "ada@example.com", &["R-OK"]).await;
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn bad_input_is_refused_naming_the_field_and_claims_nothing(db: TestDb) {
    let pair = Pair::with_serials(db, &["V-1", "V-2"]).await;
    let mut c = pair.registrations(ORG);
    let invalid_email = registration("not-an-email", &["V-1"]);
    let no_email = registration("", &["V-1"]);
    let no_items = registration("ada@example.com", &[]);
    let mut zero = registration("ada@example.com", &["V-1"]);
    zero.line_items[0].quantity = 0;
    let twice = registration("ada@example.com", &["V-1", "v-1"]);
    let bad_serial = registration("ada@example.com", &["V 1#"]);
    let cases = [
        (invalid_email, "customer_email"),
        (no_email, "customer_email"),
        (no_items, "line_items"),
        (zero, "quantity"),
        (twice, "serial_number"),
        (bad_serial, "serial_number"),
    ];
    for (bad, field) in cases {
        let err = expect_err(c.create_registration(create_request(bad.clone(), None)).await);
        assert_eq!(
            (err.code, err.reason.as_str(), err.domain.as_str()),
            (Code::InvalidArgument, "INVALID_FIELD", DOMAIN),
            "{bad:?}"
        );
        assert!(err.fields.iter().any(|f| f.contains(field)), "{field} named: {:?}", err.fields);
    }
    let missing = CreateRegistrationRequest { registration: None, request_id: String::new() };
    assert_eq!(expect_err(c.create_registration(missing).await).code, Code::InvalidArgument);
    assert_eq!(claim_of(&pair, ORG, "V-1").await.0, SerialStatus::Active, "nothing was claimed");
    assert!(list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().is_empty());
    pair.stop().await;
}

async fn a_token_is_required_and_another_orgs_registrations_do_not_exist(db: TestDb) {
    use shared::auth::Scope;
    let pair = Pair::with_serials(db, &["T-1", "T-2"]).await;
    let mut c = pair.registrations(ORG);
    let ours = register(&mut c, "ada@example.com", &["T-1"]).await;
    let get = || GetRegistrationRequest { id: ours.id.clone() };

    for header in [None, Some("Bearer not-a-jwt".to_owned())] {
        let err = expect_err(pair.registrations_header(header.clone()).get_registration(get()).await);
        assert_eq!(err.code, Code::Unauthenticated, "{header:?}");
    }
    let mut anonymous = pair.registrations_header(None);
    let create = create_request(registration("x@example.com", &["T-2"]), None);
    assert_eq!(expect_err(anonymous.create_registration(create.clone()).await).code, Code::Unauthenticated);
    let mut reader = pair.registrations_with(ORG, &[Scope::RegistrationsRead]);
    reader.get_registration(get()).await.expect("registrations:read may read");
    assert_eq!(expect_err(reader.create_registration(create).await).code, Code::PermissionDenied);
    let mut writer = pair.registrations_with(ORG, &[Scope::RegistrationsWrite]);
    let approve = ApproveRegistrationRequest { id: ours.id.clone(), ..Default::default() };
    let err = expect_err(writer.approve_registration(approve).await);
    assert_eq!((err.code, err.domain.as_str()), (Code::PermissionDenied, DOMAIN), "approving needs review");
    assert_eq!(claim_of(&pair, ORG, "T-2").await.0, SerialStatus::Active);

    let mut globex = pair.registrations("globex");
    let err = expect_err(globex.get_registration(get()).await);
    assert_eq!((err.code, err.domain.as_str()), (Code::NotFound, DOMAIN));
    let number =
        LookupRegistrationRequest { key: Some(Key::RegistrationNumber(ours.registration_number.clone())) };
    assert_eq!(expect_err(globex.lookup_registration(number).await).code, Code::NotFound);
    let serial = LookupRegistrationRequest { key: Some(Key::SerialNumber("T-1".into())) };
    assert_eq!(expect_err(globex.lookup_registration(serial).await).code, Code::NotFound);
    let cancel = CancelRegistrationRequest { id: ours.id.clone(), ..Default::default() };
    assert_eq!(expect_err(globex.cancel_registration(cancel).await).code, Code::NotFound);
    let approve = ApproveRegistrationRequest { id: ours.id.clone(), ..Default::default() };
    assert_eq!(expect_err(globex.approve_registration(approve).await).code, Code::NotFound);
    let swap = SwapSerialRequest {
        serial_number: "T-1".into(),
        new_serial_number: "T-2".into(),
        ..Default::default()
    };
    assert_eq!(expect_err(globex.swap_serial(swap).await).code, Code::NotFound);
    let reset = ResetSerialRequest { serial_number: "T-1".into(), ..Default::default() };
    assert_eq!(expect_err(globex.reset_serial(reset).await).code, Code::NotFound);
    assert!(list_all(&mut globex, ListRegistrationsRequest::default()).await.unwrap().is_empty());
    // globex cannot claim acme's serial either: for it, the serial does not exist.
    let theirs = create_request(registration("g@example.com", &["T-2"]), None);
    let err = expect_err(globex.create_registration(theirs).await);
    assert_eq!((err.code, err.reason.as_str()), (Code::NotFound, "SERIAL_NOT_FOUND"));
    let still = c.get_registration(get()).await.unwrap().into_inner();
    assert_eq!(still.status(), RegistrationStatus::Pending);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
