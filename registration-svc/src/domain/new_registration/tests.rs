use super::*;
use crate::domain::LineItemDraft;

fn item(serial: &str) -> LineItemDraft {
    LineItemDraft { quantity: 1, serial_number: serial.into(), ..LineItemDraft::default() }
}

fn draft() -> RegistrationDraft {
    RegistrationDraft {
        customer_email: "ada@example.com".into(),
        line_items: vec![item("SN-1")],
        ..RegistrationDraft::default()
    }
}

fn fields_of(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn an_email_and_one_line_item_make_a_registration_with_the_default_form() {
    let new = NewRegistration::parse(&draft()).unwrap();
    assert_eq!(new.customer_email.key(), "ada@example.com");
    assert_eq!(new.form_slug.as_str(), "product-registration");
    assert_eq!(new.line_items.len(), 1);
    assert!(new.custom_fields.as_map().is_empty());
}

#[test]
fn every_invalid_field_is_reported_with_its_path() {
    let bad = RegistrationDraft {
        customer_email: "not-an-email".into(),
        customer_phone: "1".repeat(41),
        form_slug: "bad slug".into(),
        line_items: vec![item("SN-1"), item("SN-2"), LineItemDraft { quantity: 0, ..item("SN-3") }],
        proof_of_purchase_urls: vec!["https://example.com/r.pdf".into(), "mailto:x@example.com".into()],
        ..draft()
    };
    let errors = NewRegistration::parse(&bad).unwrap_err();
    assert_eq!(
        fields_of(&errors),
        [
            "registration.customer_email",
            "registration.customer_phone",
            "registration.form_slug",
            "registration.line_items[2].quantity",
            "registration.proof_of_purchase_urls[1]",
        ]
    );
}

#[test]
fn the_email_and_at_least_one_line_item_are_required() {
    let errors = NewRegistration::parse(&RegistrationDraft::default()).unwrap_err();
    assert_eq!(fields_of(&errors), ["registration.customer_email", "registration.line_items"]);
    assert_eq!(errors[0].problem, Problem::Required);
    assert_eq!(errors[1].problem, Problem::Count { len: 0, min: 1, max: MAX_LINE_ITEMS });
    let many =
        RegistrationDraft { line_items: (0..51).map(|i| item(&format!("S-{i}"))).collect(), ..draft() };
    assert_eq!(fields_of(&NewRegistration::parse(&many).unwrap_err()), ["registration.line_items"]);
}

#[test]
fn a_serial_twice_in_one_registration_is_refused_whatever_its_case() {
    let twice = RegistrationDraft {
        line_items: vec![item("SN-1"), item("sn-2"), item("sn-1"), item("SN-1")],
        ..draft()
    };
    let errors = NewRegistration::parse(&twice).unwrap_err();
    assert_eq!(
        fields_of(&errors),
        ["registration.line_items[2].serial_number", "registration.line_items[3].serial_number"]
    );
    assert_eq!(errors[1].problem, Problem::Repeated("registration.line_items[0].serial_number".into()));
}

#[test]
fn custom_fields_are_bounded_in_count_key_and_value() {
    let ok: HashMap<_, _> =
        [(" color ".to_owned(), " red ".to_owned()), ("note".into(), String::new())].into();
    let parsed = CustomFields::parse(&ok, "f").unwrap();
    assert_eq!(parsed.as_map().get("color").map(String::as_str), Some("red"));
    assert_eq!(parsed.as_map().get("note").map(String::as_str), Some(""));
    let too_many: HashMap<_, _> = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    assert!(matches!(
        CustomFields::parse(&too_many, "f").unwrap_err()[0].problem,
        Problem::Count { len: 51, .. }
    ));
    let bad_key: HashMap<_, _> = [("k".repeat(65), "v".to_owned())].into();
    assert_eq!(CustomFields::parse(&bad_key, "f").unwrap_err()[0].problem, Problem::Key { len: 65, max: 64 });
    let empty_key: HashMap<_, _> = [(" ".to_owned(), "v".to_owned())].into();
    assert!(CustomFields::parse(&empty_key, "f").is_err());
    let bad_value: HashMap<_, _> = [("k".to_owned(), "a\u{0}".to_owned())].into();
    assert!(CustomFields::parse(&bad_value, "f").is_err());
}

#[test]
fn at_most_ten_proof_urls_and_none_empty() {
    let eleven: Vec<String> = (0..11).map(|i| format!("https://example.com/{i}")).collect();
    assert!(ProofUrls::parse(&eleven, "p").is_err());
    assert_eq!(ProofUrls::parse(&eleven[..10], "p").unwrap().as_slice().len(), 10);
    let errors = ProofUrls::parse(&["".into()], "p").unwrap_err();
    assert_eq!(errors[0], FieldError::new("p[0]", Problem::Required));
}

#[test]
fn a_batch_caller_can_nest_the_paths() {
    let errors =
        NewRegistration::parse(&RegistrationDraft { customer_email: "x".into(), ..draft() }).unwrap_err();
    let nested = errors[0].clone().within("requests[3]");
    assert_eq!(nested.field, "requests[3].registration.customer_email");
}

#[test]
fn serialized_and_non_serialized_line_items_mix_and_only_serials_must_be_distinct() {
    let mixed =
        RegistrationDraft { line_items: vec![item("SN-1"), item(""), item(" "), item("sn-2")], ..draft() };
    let new = NewRegistration::parse(&mixed).unwrap();
    let serials: Vec<_> =
        new.line_items.iter().map(|i| i.serial_number.as_ref().map(|s| s.as_str())).collect();
    assert_eq!(serials, [Some("SN-1"), None, None, Some("sn-2")]);
    assert!(new.claims_serials());
    let none = RegistrationDraft { line_items: vec![item(""), item("")], ..draft() };
    assert!(!NewRegistration::parse(&none).unwrap().claims_serials());
}
