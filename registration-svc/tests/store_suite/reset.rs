//! `ResetSerial`.

use registration_svc::domain::{RegistrationStatus, ResetError};
use registration_svc::store::Store;

use super::*;

pub async fn reset_erases_the_customer_cancels_and_releases_every_serial(store: Store) {
    let full = RegistrationDraft {
        customer_phone: "+1 555 0100".into(),
        customer_provided_order_number: "PO-7".into(),
        referrer: "newsletter".into(),
        email_marketing_consent: true,
        email_marketing_consent_time: Some(t0()),
        custom_fields: [("size".to_owned(), "L".to_owned())].into(),
        proof_of_purchase_urls: vec!["https://example.com/r.pdf".into()],
        ..draft(&["SN-1", "SN-2"])
    };
    let r = register_at(&store, &ctx(t0()), &NewRegistration::parse(&full).unwrap()).await;
    store.approve_registration(&ctx(at(1)), None, &r.id).await.unwrap();
    let reset = store.reset_serial(&ctx(at(2)), Some(&key(20, 1)), &sn("sn-2")).await.unwrap();
    assert_eq!((reset.status, reset.cancel_time), (RegistrationStatus::Canceled, Some(at(2))));
    assert_eq!(reset.customer_email, "");
    assert_eq!((reset.customer_name.as_ref(), reset.customer_phone.as_ref()), (None, None));
    assert_eq!((reset.customer_provided_order_number.as_ref(), reset.referrer.as_ref()), (None, None));
    assert!(!reset.email_marketing_consent && reset.email_marketing_consent_time.is_none());
    assert!(reset.custom_fields.is_empty() && reset.proof_of_purchase_urls.is_empty());
    assert_eq!(reset.registration_number, r.registration_number, "the registration itself stays");
    assert_eq!(reset.serial_numbers().collect::<Vec<_>>(), ["SN-1", "SN-2"]);
    assert_eq!(pending_releases(&intents(&store, &r.id).await), ["SN-1", "SN-2"]);
    assert_eq!((holder(&store, "SN-1").await, holder(&store, "SN-2").await), (None, None));
    let replay = store.reset_serial(&ctx(at(3)), Some(&key(20, 1)), &sn("sn-2")).await.unwrap();
    assert_eq!(replay, reset);
    let err = store.reset_serial(&ctx(at(3)), None, &sn("SN-2")).await.unwrap_err();
    assert!(matches!(err, ResetError::NotHeld), "{err:?}");
    let again = register(&store, at(4), &["SN-2"]).await;
    assert_eq!(holder(&store, "SN-2").await, Some(again.id), "the serial can be registered again");
}
