use registration_svc::domain::{RegistrationDraft, SerialNumber, SerialPlans, WarrantyPlanTerms};
use regserial::registration::v1 as pb;
use regserial::registration::v1::lookup_registration_request::Key;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::Code;
use tonic_types::StatusExt;

use crate::support::*;

fn get(id: &str) -> pb::GetRegistrationRequest {
    pb::GetRegistrationRequest { id: id.into() }
}

fn lookup(key: Key) -> pb::LookupRegistrationRequest {
    pb::LookupRegistrationRequest { key: Some(key) }
}

fn ts(time: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: time.timestamp(), nanos: 0 })
}

pub async fn get_returns_every_field_of_the_registration(h: Harness) {
    let bought = t0() - chrono::Duration::days(3);
    let full = RegistrationDraft {
        customer_phone: "+1 555 0100".into(),
        channel_name: "web".into(),
        form_slug: "Warranty".into(),
        customer_provided_order_number: "PO-7".into(),
        purchase_date: Some(bought),
        referrer: "newsletter".into(),
        email_marketing_consent: true,
        email_marketing_consent_time: Some(bought),
        custom_fields: [("size".to_owned(), "L".to_owned())].into(),
        proof_of_purchase_urls: vec!["https://example.com/r.pdf".into()],
        ..draft(&["SN-1", "SN-2"])
    };
    let mut plans = SerialPlans::new();
    let plan = WarrantyPlanTerms { id: "std".into(), name: "Standard".into(), duration_months: 24 };
    plans.insert(&SerialNumber::parse("SN-1").unwrap(), plan);
    let stored = register_draft(&h.store, ORG, at(1), &full, &plans).await;

    let got = h.api.get_registration(reader(get(stored.id.as_str()))).await.unwrap().into_inner();
    let warranty = pb::Warranty {
        plan_id: "std".into(),
        plan_name: "Standard".into(),
        coverage_start: ts(bought),
        coverage_end: ts(bought.checked_add_months(chrono::Months::new(24)).unwrap()),
    };
    let item = |serial: &str, warranty: Option<pb::Warranty>| pb::LineItem {
        quantity: 1,
        serial_number: serial.into(),
        warranty,
        ..Default::default()
    };
    let expected = pb::Registration {
        id: stored.id.to_string(),
        registration_number: "ACME-REG-00001".into(),
        status: pb::RegistrationStatus::Pending as i32,
        customer_email: "ada@example.com".into(),
        customer_name: "Ada Lovelace".into(),
        customer_phone: "+1 555 0100".into(),
        channel_name: "web".into(),
        form_slug: "warranty".into(),
        line_items: vec![item("SN-1", Some(warranty.clone())), item("SN-2", None)],
        customer_provided_order_number: "PO-7".into(),
        purchase_date: ts(bought),
        referrer: "newsletter".into(),
        email_marketing_consent: true,
        email_marketing_consent_time: ts(bought),
        custom_fields: [("size".to_owned(), "L".to_owned())].into(),
        proof_of_purchase_urls: vec!["https://example.com/r.pdf".into()],
        warranty: Some(warranty),
        denial_reason: String::new(),
        create_time: ts(at(1)),
        update_time: ts(at(1)),
        review_time: None,
        cancel_time: None,
        customer_tags: vec![],
    };
    assert_eq!(got, expected);
}

pub async fn lookup_finds_by_number_or_held_serial_and_needs_one_of_them(h: Harness) {
    register(&h.store, at(1), &["SN-0"]).await;
    let stored = register(&h.store, at(2), &["SN-1", "SN-2"]).await;
    let by_number =
        h.api.lookup_registration(reader(lookup(Key::RegistrationNumber("acme-reg-00002".into()))));
    assert_eq!(by_number.await.unwrap().into_inner().id, stored.id.as_str());
    let by_serial = h.api.lookup_registration(reader(lookup(Key::SerialNumber("sn-2".into()))));
    assert_eq!(by_serial.await.unwrap().into_inner().id, stored.id.as_str());

    let neither = pb::LookupRegistrationRequest { key: None };
    let status = h.api.lookup_registration(reader(neither)).await.unwrap_err();
    assert_invalid_field(&status, "registration_number");
    let status = h.api.lookup_registration(reader(lookup(Key::SerialNumber("a b".into())))).await;
    assert_invalid_field(&status.unwrap_err(), "serial_number");
    let status = h.api.lookup_registration(reader(lookup(Key::RegistrationNumber("REG-1".into())))).await;
    assert_invalid_field(&status.unwrap_err(), "registration_number");

    let status =
        h.api.lookup_registration(reader(lookup(Key::SerialNumber("SN-9".into())))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    assert_eq!(metadata(&status, "serial_number"), "SN-9");
    assert!(status.get_error_details().resource_info().is_some());
    let missing = lookup(Key::RegistrationNumber("ACME-REG-00009".into()));
    let status = h.api.lookup_registration(reader(missing)).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    assert_eq!(metadata(&status, "registration_number"), "ACME-REG-00009");
}

pub async fn another_orgs_registration_is_not_found_by_id_number_or_serial(h: Harness) {
    let stored = register(&h.store, at(1), &["SN-1"]).await;
    let status = h.api.get_registration(other_org(get(stored.id.as_str()))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    assert_eq!(metadata(&status, "registration_id"), stored.id.as_str());
    let number = lookup(Key::RegistrationNumber("ACME-REG-00001".into()));
    let status = h.api.lookup_registration(other_org(number)).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    let serial = lookup(Key::SerialNumber("SN-1".into()));
    let status = h.api.lookup_registration(other_org(serial)).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    let listed = h.api.list_registrations(other_org(pb::ListRegistrationsRequest::default())).await;
    assert!(listed.unwrap().into_inner().registrations.is_empty());
}

pub async fn malformed_ids_and_attempts_in_progress_are_refused(h: Harness) {
    for bad in ["", "not-a-uuid", "ACME-REG-00001"] {
        assert_invalid_field(&h.api.get_registration(reader(get(bad))).await.unwrap_err(), "id");
    }
    let new = registration_svc::domain::NewRegistration::parse(&draft(&["SN-1"])).unwrap();
    let ctx = registration_svc::domain::Ctx { org: ORG, actor: "alice", now: at(1) };
    let attempt = h.store.begin_attempt(&ctx, None, &new).await.unwrap().into_inner();
    let status = h.api.get_registration(reader(get(attempt.id.as_str()))).await.unwrap_err();
    assert_eq!(
        reason(&status, Code::NotFound),
        "REGISTRATION_NOT_FOUND",
        "an attempt in flight is not shown"
    );
}
