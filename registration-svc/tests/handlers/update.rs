use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::Code;

use crate::support::*;

fn update(registration: Option<pb::Registration>, paths: &[&str]) -> pb::UpdateRegistrationRequest {
    let update_mask = prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() };
    pb::UpdateRegistrationRequest { registration, update_mask: Some(update_mask), request_id: String::new() }
}

fn changes(id: &str) -> pb::Registration {
    pb::Registration {
        id: id.into(),
        customer_email: "grace@example.com".into(),
        customer_name: String::new(),
        customer_phone: "+1 555 0100".into(),
        custom_fields: [("size".to_owned(), "L".to_owned())].into(),
        status: pb::RegistrationStatus::Approved as i32,
        ..input(&["SN-OTHER"])
    }
}

pub async fn update_changes_only_the_masked_fields(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    h.clock.set(at(9));
    let request = update(Some(changes(&id)), &["customer_name", "customer_phone", "custom_fields"]);
    let updated = h.api.update_registration(writer(request)).await.unwrap().into_inner();
    assert_eq!(updated.customer_email, "ada@example.com", "not in the mask");
    assert_eq!((updated.customer_name.as_str(), updated.customer_phone.as_str()), ("", "+1 555 0100"));
    assert_eq!(updated.custom_fields.get("size").map(String::as_str), Some("L"));
    assert_eq!(updated.status(), pb::RegistrationStatus::Pending, "output only fields are ignored");
    assert_eq!(updated.line_items[0].serial_number, "SN-1");
    assert_eq!(updated.update_time.map(|t| t.seconds), Some(at(9).timestamp()));
    let read = h.api.get_registration(reader(pb::GetRegistrationRequest { id })).await.unwrap();
    assert_eq!(read.into_inner(), updated);
}

pub async fn a_mask_naming_status_serials_or_unknown_fields_is_refused_on_update_mask(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    for path in [
        "status",
        "line_items",
        "line_items.serial_number",
        "registration_number",
        "purchase_date",
        "nonsense",
    ] {
        let status =
            h.api.update_registration(writer(update(Some(changes(&id)), &[path]))).await.unwrap_err();
        assert_invalid_field(&status, "update_mask");
    }
    let both = update(Some(changes(&id)), &["customer_name", "status"]);
    assert_invalid_field(&h.api.update_registration(writer(both)).await.unwrap_err(), "update_mask");
    let unchanged = h.api.get_registration(reader(pb::GetRegistrationRequest { id })).await.unwrap();
    assert_eq!(unchanged.into_inner().customer_name, "Ada Lovelace");
}

pub async fn an_update_needs_a_valid_registration_of_the_org(h: Harness) {
    let id = register(&h.store, at(1), &["SN-1"]).await.id.to_string();
    let status = h.api.update_registration(writer(update(None, &["customer_name"]))).await.unwrap_err();
    assert_invalid_field(&status, "registration");
    let status = h.api.update_registration(writer(update(Some(changes("nope")), &["customer_name"]))).await;
    assert_invalid_field(&status.unwrap_err(), "registration.id");
    let bad_email = pb::Registration { customer_email: "nope".into(), ..changes(&id) };
    let status = h.api.update_registration(writer(update(Some(bad_email), &["customer_email"]))).await;
    assert_invalid_field(&status.unwrap_err(), "registration.customer_email");
    let status = h.api.update_registration(other_org(update(Some(changes(&id)), &["customer_name"]))).await;
    assert_eq!(reason(&status.unwrap_err(), Code::NotFound), "REGISTRATION_NOT_FOUND");
}
