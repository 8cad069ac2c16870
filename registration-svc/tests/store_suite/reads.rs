//! Reads by id, number and serial, alone and in flight together, and tenant isolation.

use futures::future::join_all;
use registration_svc::domain::{
    AttemptFailure, CompleteError, IntentError, Order, Registration, RegistrationFilter, RegistrationId,
    RegistrationNumber, RegistrationPatch, ResetError, SerialPlans, SwapError, TransitionError, UpdateError,
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

/// Point reads that wait together are answered by one statement per kind of key: each still gets
/// its own registration, a key asked twice gets it twice, and a key of no registration, of
/// another org or of a serial no longer held gets nothing.
pub async fn point_reads_in_flight_together_each_get_their_own_answer(store: Store) {
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(register(&store, at(i), &[&format!("SN-{i}")]).await);
    }
    let theirs = register_at(&store, &org_ctx("globex", at(9)), &new_registration(&["SN-9"])).await;
    store.cancel_registration(&ctx(at(10)), None, &mine[4].id).await.unwrap();
    let canceled = store.get_registration(ORG, &mine[4].id).await.unwrap().expect("canceled is public");
    let missing = RegistrationId::generate();
    let number = |n: u32| RegistrationNumber::parse(&format!("acme-reg-{n:05}")).unwrap();

    // Each kind of read is asked for every key at once, twice over, among keys of nothing.
    let mut ids: Vec<(RegistrationId, Option<&Registration>)> =
        mine[..4].iter().map(|r| (r.id.clone(), Some(r))).collect();
    ids.extend([(canceled.id.clone(), Some(&canceled)), (missing, None), (theirs.id.clone(), None)]);
    ids.extend(ids.clone());
    let mut numbers: Vec<(RegistrationNumber, Option<&Registration>)> =
        mine[..4].iter().zip(1..).map(|(r, n)| (number(n), Some(r))).collect();
    numbers.extend([(number(5), Some(&canceled)), (number(6), None)]);
    numbers.extend(numbers.clone());
    let mut serials: Vec<(SerialNumber, Option<&Registration>)> =
        mine[..4].iter().zip(0..).map(|(r, i)| (sn(&format!("sn-{i}")), Some(r))).collect();
    serials.extend([(sn("SN-4"), None), (sn("SN-9"), None), (sn("SN-404"), None)]);
    serials.extend(serials.clone());

    let (by_id, by_number, by_serial) = tokio::join!(
        join_all(ids.iter().map(|(id, _)| store.get_registration(ORG, id))),
        join_all(numbers.iter().map(|(n, _)| store.lookup_by_number(ORG, n))),
        join_all(serials.iter().map(|(s, _)| store.lookup_by_serial(ORG, s))),
    );
    for ((id, want), got) in ids.iter().zip(by_id) {
        assert_eq!(got.unwrap().as_ref(), *want, "get {id}");
    }
    for ((n, want), got) in numbers.iter().zip(by_number) {
        assert_eq!(got.unwrap().as_ref(), *want, "lookup {n:?}");
    }
    for ((s, want), got) in serials.iter().zip(by_serial) {
        assert_eq!(got.unwrap().as_ref(), *want, "lookup {s:?}");
    }
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
    let swap = store.begin_swap(&ctx(at(1)), None, &sn("SN-1"), &sn("SN-2")).await.unwrap().into_inner();
    let claim_id = swap.claim.id;
    let err = store.record_intent_done(&other, claim_id).await.unwrap_err();
    assert!(matches!(err, IntentError::NotFound), "{err:?}");
    let why = AttemptFailure::new("X", None, "x".into());
    assert!(store.abort_swap(&other, claim_id, &why, true).await.is_err());
    // The same serial is free to be registered in another org.
    let theirs = register_at(&store, &other, &new_registration(&["sn-1"])).await;
    assert_eq!(store.lookup_by_serial("globex", &sn("SN-1")).await.unwrap().map(|r| r.id), Some(theirs.id));
    assert_eq!(holder(&store, "SN-1").await, Some(r.id));
}
