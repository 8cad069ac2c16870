//! Reads by id, number and serial, and tenant isolation.

use registration_svc::domain::{
    AttemptFailure, CompleteError, IntentError, Order, RegistrationFilter, RegistrationNumber,
    RegistrationPatch, ResetError, SerialPlans, SwapError, TransitionError, UpdateError,
};
use registration_svc::store::Store;

use super::*;

pub async fn lookup_finds_by_number_in_any_case_and_by_held_serial(store: Store) {
    let r = register(&store, t0(), &["SN-1", "SN-2"]).await;
    let number = RegistrationNumber::parse("acme-reg-00001").unwrap();
    assert_eq!(store.lookup_by_number(ORG, &number).await.unwrap().as_ref(), Some(&r));
    assert_eq!(store.lookup_by_serial(ORG, &sn("sn-2")).await.unwrap().as_ref(), Some(&r));
    assert_eq!(store.lookup_by_serial(ORG, &sn("SN-3")).await.unwrap(), None);
    let missing = RegistrationNumber::parse("ACME-REG-00002").unwrap();
    assert_eq!(store.lookup_by_number(ORG, &missing).await.unwrap(), None);
    store.cancel_registration(&ctx(at(1)), None, &r.id).await.unwrap();
    assert_eq!(
        store.lookup_by_serial(ORG, &sn("SN-1")).await.unwrap(),
        None,
        "a canceled registration holds nothing"
    );
    assert!(store.lookup_by_number(ORG, &number).await.unwrap().is_some(), "but keeps its number");
}

pub async fn another_org_gets_nothing(store: Store) {
    let r = register(&store, t0(), &["SN-1"]).await;
    let other = org_ctx("globex", at(1));
    let number = RegistrationNumber::parse("ACME-REG-00001").unwrap();
    assert_eq!(store.get_registration("globex", &r.id).await.unwrap(), None);
    assert_eq!(store.get_attempt("globex", &r.id).await.unwrap(), None);
    assert_eq!(store.lookup_by_number("globex", &number).await.unwrap(), None);
    assert_eq!(store.lookup_by_serial("globex", &sn("SN-1")).await.unwrap(), None);
    let page =
        store.list_registrations("globex", &RegistrationFilter::default(), Order::Desc, None, 10).await;
    assert!(page.unwrap().registrations.is_empty());
    let err = store.approve_registration(&other, None, &r.id).await.unwrap_err();
    assert!(matches!(err, TransitionError::NotFound), "{err:?}");
    let err = store.cancel_registration(&other, None, &r.id).await.unwrap_err();
    assert!(matches!(err, TransitionError::NotFound), "{err:?}");
    let err =
        store.update_registration(&other, None, &r.id, &RegistrationPatch::default()).await.unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
    let err = store.complete_registration(&other, &r, &SerialPlans::new()).await.unwrap_err();
    assert!(matches!(err, CompleteError::NotFound), "{err:?}");
    let err = store.begin_swap(&other, None, &sn("SN-1"), &sn("SN-9")).await.unwrap_err();
    assert!(matches!(err, SwapError::NotHeld), "{err:?}");
    let err = store.reset_serial(&other, None, &sn("SN-1")).await.unwrap_err();
    assert!(matches!(err, ResetError::NotHeld), "{err:?}");
    let claim_id = intents(&store, &r.id).await[0].id;
    let err = store.record_intent_done(&other, claim_id).await.unwrap_err();
    assert!(matches!(err, IntentError::NotFound), "{err:?}");
    let why = AttemptFailure { code: "X".into(), serial_number: None, message: "x".into() };
    assert!(store.abort_swap(&other, claim_id, &why, true).await.is_err());
    // The same serial is free to be registered in another org.
    let theirs = register_at(&store, &other, &new_registration(&["sn-1"])).await;
    assert_eq!(store.lookup_by_serial("globex", &sn("SN-1")).await.unwrap().map(|r| r.id), Some(theirs.id));
    assert_eq!(holder(&store, "SN-1").await, Some(r.id));
}
