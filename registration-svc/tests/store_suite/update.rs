//! `UpdateRegistration`.

use std::collections::HashMap;

use registration_svc::domain::{Email, Order, RegistrationFilter, RegistrationPatch, UpdateError};
use registration_svc::store::Store;

use super::*;

pub async fn update_changes_only_the_named_fields(store: Store) {
    let r = register(&store, t0(), &["SN-1"]).await;
    let changes = RegistrationDraft {
        customer_email: "Grace@Example.com".into(),
        customer_phone: "+1 555 0100".into(),
        custom_fields: HashMap::from([("color".into(), "red".into())]),
        proof_of_purchase_urls: vec!["https://example.com/receipt.pdf".into()],
        email_marketing_consent: true,
        email_marketing_consent_time: Some(at(1)),
        ..RegistrationDraft::default()
    };
    let mask: Vec<String> = [
        "customer_email",
        "customer_name",
        "custom_fields",
        "proof_of_purchase_urls",
        "email_marketing_consent",
    ]
    .map(String::from)
    .to_vec();
    let patch = RegistrationPatch::parse(&changes, &mask).unwrap();
    let updated = store.update_registration(&ctx(at(2)), None, &r.id, &patch).await.unwrap();
    assert_eq!(updated.customer_email, "Grace@Example.com");
    assert_eq!(updated.customer_name, None, "named and empty: cleared");
    assert_eq!(updated.customer_phone, None, "not named: unchanged");
    assert_eq!(updated.channel_name.as_deref(), Some("web"));
    assert_eq!(updated.custom_fields.get("color").map(String::as_str), Some("red"));
    assert_eq!(updated.proof_of_purchase_urls, ["https://example.com/receipt.pdf"]);
    assert!(updated.email_marketing_consent);
    assert_eq!(updated.email_marketing_consent_time, None, "the time was not named");
    assert_eq!(updated.update_time, at(2));
    assert_eq!((updated.status, &updated.registration_number), (r.status, &r.registration_number));
    assert_eq!(store.get_registration(ORG, &r.id).await.unwrap(), Some(updated));
    let filter = RegistrationFilter {
        customer_email: Some(Email::parse("grace@example.com").unwrap()),
        ..Default::default()
    };
    let page = store.list_registrations(ORG, &filter, Order::Desc, None, 10).await.unwrap();
    assert_eq!(page.registrations.len(), 1, "the email filter follows the update");

    store.cancel_registration(&ctx(at(3)), None, &r.id).await.unwrap();
    let rename =
        RegistrationPatch::parse(&RegistrationDraft { customer_name: "G".into(), ..Default::default() }, &[])
            .unwrap();
    let renamed = store.update_registration(&ctx(at(4)), None, &r.id, &rename).await.unwrap();
    assert_eq!(renamed.customer_name.as_deref(), Some("G"), "any public state can be updated");
    let err =
        store.update_registration(&ctx(at(4)), None, &RegistrationId::generate(), &rename).await.unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
}
