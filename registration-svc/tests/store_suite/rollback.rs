//! Attempts left open: rolled back, restarted by a retry once the rollback's releases are done,
//! and released again when a driver finds its attempt failed under it.

use registration_svc::domain::{IntentKind, IntentState, RegistrationStatus, RestartError};
use registration_svc::store::Store;

use super::*;

/// Records every pending release of registration `id` done, as a worker would once serial-svc
/// answered.
async fn release_all(store: &Store, id: &RegistrationId) {
    for intent in intents(store, id).await {
        if intent.kind == IntentKind::Release && intent.state == IntentState::Pending {
            store.record_intent_done(&ctx(at(3)), intent.id).await.unwrap();
        }
    }
}

pub async fn a_rolled_back_attempt_restarts_only_once_its_releases_are_done(store: Store) {
    let attempt = begin(&store, &ctx(t0()), &new_registration(&["SN-1", "", "SN-2"])).await;
    let id = attempt.registration.id.clone();
    let rolled =
        store.fail_registration(&ctx(at(1)), &id, &AttemptFailure::rolled_back(), &[]).await.unwrap();
    assert!(rolled.is_rolled_back());
    assert_eq!(pending_releases(&rolled.intents), ["SN-1", "SN-2"], "any claim may have succeeded");
    let err = store.restart_registration(&ctx(at(2)), &id).await.unwrap_err();
    assert!(matches!(err, RestartError::RollbackUnderWay), "{err:?}");

    release_all(&store, &id).await;
    let restarted = store.restart_registration(&ctx(at(4)), &id).await.unwrap();
    let r = &restarted.registration;
    assert_eq!((r.status, r.failure.as_ref(), &r.id), (RegistrationStatus::Claiming, None, &id));
    let claims: Vec<_> = restarted.pending_claims().map(|i| i.serial_number.as_str()).collect();
    assert_eq!(claims, ["SN-1", "SN-2"]);
    assert!(restarted.pending_claims().all(|c| c.next_attempt_time > at(4)), "leased to the retry");
    let err = store.restart_registration(&ctx(at(5)), &id).await.unwrap_err();
    assert!(matches!(err, RestartError::NotRolledBack { status: RegistrationStatus::Claiming }), "{err:?}");
    let done = store.complete_registration(&ctx(at(6)), r, &SerialPlans::new()).await.unwrap();
    assert_eq!(
        (done.status, done.registration_number.as_deref()),
        (RegistrationStatus::Pending, Some("ACME-REG-00001"))
    );
    assert_eq!(holder(&store, "SN-2").await, Some(id));
}

pub async fn a_refused_attempt_never_restarts(store: Store) {
    let attempt = begin(&store, &ctx(t0()), &new_registration(&["SN-1"])).await;
    let id = attempt.registration.id.clone();
    store
        .fail_registration(&ctx(at(1)), &id, &failure("SERIAL_REVOKED", "SN-1"), &[sn("SN-1")])
        .await
        .unwrap();
    let err = store.restart_registration(&ctx(at(2)), &id).await.unwrap_err();
    assert!(matches!(err, RestartError::NotRolledBack { status: RegistrationStatus::Failed }), "{err:?}");
}

pub async fn releases_are_written_again_only_while_the_attempt_is_failed(store: Store) {
    let attempt = begin(&store, &ctx(t0()), &new_registration(&["SN-1", "SN-2"])).await;
    let id = attempt.registration.id.clone();
    assert!(
        store.release_again(&ctx(at(1)), &id).await.unwrap().is_none(),
        "an open attempt releases nothing"
    );
    store.fail_registration(&ctx(at(1)), &id, &AttemptFailure::rolled_back(), &[]).await.unwrap();
    let again = store.release_again(&ctx(at(2)), &id).await.unwrap().unwrap();
    assert_eq!(pending_releases(&again.intents), ["SN-1", "SN-2"], "no second release while one is pending");
    release_all(&store, &id).await;
    let again = store.release_again(&ctx(at(4)), &id).await.unwrap().unwrap();
    assert_eq!(pending_releases(&again.intents), ["SN-1", "SN-2"], "released again after the first ones");
    release_all(&store, &id).await;
    store.restart_registration(&ctx(at(5)), &id).await.unwrap();
    assert!(store.release_again(&ctx(at(6)), &id).await.unwrap().is_none(), "restarted: nothing released");
}
