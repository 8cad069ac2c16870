//! Intent outcomes and the recovery worker's leases.

use registration_svc::domain::{IntentError, IntentKind, IntentState};
use registration_svc::store::Store;

use super::*;

fn serials(intents: &[Intent]) -> Vec<&str> {
    intents.iter().map(|i| i.serial_number.as_str()).collect()
}

/// Registers `serial` at `t0 + secs` and cancels it: one release due at once.
async fn released(store: &Store, secs: i64, serial: &str) -> RegistrationId {
    let r = register(store, at(secs), &[serial]).await;
    store.cancel_registration(&ctx(at(secs)), None, &r.id).await.unwrap();
    r.id
}

pub async fn due_releases_are_leased_once_until_the_lease_passes(store: Store) {
    for (i, serial) in ["R-1", "R-2", "R-3"].into_iter().enumerate() {
        released(&store, i as i64, serial).await;
    }
    begin(&store, &ctx(at(3)), &new_registration(&["CLAIM-1"])).await;
    register(&store, at(4), &["OLD-1"]).await;
    let swap = store.begin_swap(&ctx(at(5)), None, &sn("OLD-1"), &sn("NEW-1")).await.unwrap().into_inner();

    let now = at(10);
    let first = store.lease_due_intents(now, 2).await.unwrap();
    assert_eq!(serials(&first), ["R-1", "R-2"], "oldest first, bounded");
    assert!(first.iter().all(|i| i.next_attempt_time == now + lease() && i.org_id == ORG));
    assert_eq!(
        serials(&store.lease_due_intents(now, 2).await.unwrap()),
        ["R-3"],
        "a leased intent is not handed out again"
    );
    assert!(store.lease_due_intents(now, 2).await.unwrap().is_empty(), "an open attempt owes no intent");

    store.record_intent_done(&ctx(now), first[0].id).await.unwrap();
    let later = store.lease_due_intents(at(5) + lease() + lease(), 10).await.unwrap();
    assert_eq!(
        serials(&later),
        ["R-2", "R-3", "NEW-1"],
        "expired leases come back; done ones never; a swap claim once its lease passed"
    );
    assert_eq!(later[2].id, swap.claim.id);
}

pub async fn failed_tries_back_off_and_keep_their_error(store: Store) {
    let id = released(&store, 0, "R-1").await;
    let release = intents(&store, &id).await.into_iter().find(|i| i.kind == IntentKind::Release).unwrap();
    let once = store.record_intent_failure(&ctx(at(1)), release.id, "serial-svc unavailable").await.unwrap();
    assert_eq!((once.attempts, once.last_error.as_deref()), (1, Some("serial-svc unavailable")));
    assert_eq!(once.next_attempt_time, at(2));
    let long = "x".repeat(5000);
    let twice = store.record_intent_failure(&ctx(at(2)), release.id, &long).await.unwrap();
    assert_eq!((twice.attempts, twice.next_attempt_time), (2, at(4)));
    assert_eq!(twice.last_error.map(|e| e.len()), Some(1000), "errors are kept short");
    assert!(store.lease_due_intents(at(3), 10).await.unwrap().is_empty(), "not before its backoff");
    assert_eq!(serials(&store.lease_due_intents(at(4), 10).await.unwrap()), ["R-1"]);
    let done = store.record_intent_done(&ctx(at(5)), release.id).await.unwrap();
    let after = store.record_intent_failure(&ctx(at(6)), release.id, "late").await.unwrap();
    assert_eq!(after, done, "a done intent records no failure");
    let err = store.record_intent_failure(&ctx(at(6)), 999_999, "x").await.unwrap_err();
    assert!(matches!(err, IntentError::NotFound), "{err:?}");
}

pub async fn recording_done_closes_releases_but_not_swap_claims(store: Store) {
    let id = released(&store, 0, "R-1").await;
    let release = intents(&store, &id).await.into_iter().find(|i| i.kind == IntentKind::Release).unwrap();
    let done = store.record_intent_done(&ctx(at(1)), release.id).await.unwrap();
    assert_eq!((done.state, done.update_time), (IntentState::Done, at(1)));
    assert_eq!(store.record_intent_done(&ctx(at(2)), release.id).await.unwrap(), done, "again: unchanged");
    register(&store, at(3), &["OLD-1"]).await;
    let swap = store.begin_swap(&ctx(at(4)), None, &sn("OLD-1"), &sn("NEW-1")).await.unwrap().into_inner();
    let err = store.record_intent_done(&ctx(at(5)), swap.claim.id).await.unwrap_err();
    assert!(matches!(err, IntentError::SwapClaim), "{err:?}");
    let err = store.record_intent_done(&ctx(at(5)), 999_999).await.unwrap_err();
    assert!(matches!(err, IntentError::NotFound), "{err:?}");
}
