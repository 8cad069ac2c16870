//! Attempts left open: rolled back, restarted by a retry once the rollback's releases are done,
//! and released again when a driver finds its attempt failed under it.

use registration_svc::domain::{AttemptState, IntentKind, IntentState, RestartError};
use registration_svc::store::Store;

use super::*;

/// Records every pending release of attempt `id` done, as a worker would once serial-svc
/// answered.
async fn release_all(store: &Store, id: &RegistrationId) {
    for intent in intents(store, id).await {
        if intent.kind == IntentKind::Release && intent.state == IntentState::Pending {
            store.record_intent_done(&ctx(at(3)), intent.id).await.unwrap();
        }
    }
}

pub async fn a_rolled_back_attempt_restarts_only_once_its_releases_are_done(store: Store) {
    let begun = begin(&store, &ctx(t0()), &new_registration(&["SN-1", "", "SN-2"])).await;
    let id = begun.attempt.id.clone();
    let rolled = store.fail_attempt(&ctx(at(1)), &id, &AttemptFailure::rolled_back(), &[]).await.unwrap();
    assert!(rolled.is_rolled_back());
    assert_eq!(pending_releases(&rolled.intents), ["SN-1", "SN-2"], "any claim may have succeeded");
    let err = store.restart_attempt(&ctx(at(2)), &id).await.unwrap_err();
    assert!(matches!(err, RestartError::RollbackUnderWay), "{err:?}");

    release_all(&store, &id).await;
    let restarted = store.restart_attempt(&ctx(at(4)), &id).await.unwrap();
    assert_eq!((restarted.state, restarted.failure.as_ref()), (AttemptState::Open, None));
    assert_ne!(restarted.id, id, "a new claimant: a late release of the old one cannot undo its claims");
    assert_eq!(restarted.serial_numbers, [sn("SN-1"), sn("SN-2")]);
    assert!(restarted.lease_until.is_some_and(|until| until > at(4)), "leased to the retry");
    assert_eq!(store.get_attempt(ORG, &id).await.unwrap(), None, "the request moved to the new id");
    let err = store.restart_attempt(&ctx(at(5)), &restarted.id).await.unwrap_err();
    assert!(matches!(err, RestartError::NotRolledBack { state: AttemptState::Open }), "{err:?}");
    let requested = Registration { id: restarted.id.clone(), ..begun.registration };
    let done = store.complete_registration(&ctx(at(6)), &requested, &SerialPlans::new()).await.unwrap();
    assert_eq!(
        (done.status, done.registration_number.as_deref()),
        (registration_svc::domain::RegistrationStatus::Pending, Some("ACME-REG-00001"))
    );
    assert_eq!(holder(&store, "SN-2").await, Some(restarted.id));
}

pub async fn a_refused_attempt_never_restarts(store: Store) {
    let id = begin(&store, &ctx(t0()), &new_registration(&["SN-1"])).await.attempt.id;
    store.fail_attempt(&ctx(at(1)), &id, &failure("SERIAL_REVOKED", "SN-1"), &[sn("SN-1")]).await.unwrap();
    let err = store.restart_attempt(&ctx(at(2)), &id).await.unwrap_err();
    assert!(matches!(err, RestartError::NotRolledBack { state: AttemptState::Failed }), "{err:?}");
    let err = store.restart_attempt(&ctx(at(2)), &RegistrationId::generate()).await.unwrap_err();
    assert!(matches!(err, RestartError::NotFound), "{err:?}");
}

pub async fn releases_are_written_again_only_while_the_attempt_is_failed_or_moved(store: Store) {
    let id = begin(&store, &ctx(t0()), &new_registration(&["SN-1", "SN-2"])).await.attempt.id;
    let serials = [sn("SN-1"), sn("SN-2")];
    let again = store.release_again(&ctx(at(1)), &id, &serials).await.unwrap();
    assert!(again.is_none() && intents(&store, &id).await.is_empty(), "an open attempt releases nothing");
    store.fail_attempt(&ctx(at(1)), &id, &AttemptFailure::rolled_back(), &[]).await.unwrap();
    let again = store.release_again(&ctx(at(2)), &id, &serials).await.unwrap().unwrap();
    assert_eq!(pending_releases(&again.intents), ["SN-1", "SN-2"], "no second release while one is pending");
    release_all(&store, &id).await;
    let again = store.release_again(&ctx(at(4)), &id, &serials).await.unwrap().unwrap();
    assert_eq!(pending_releases(&again.intents), ["SN-1", "SN-2"], "released again after the first ones");
    release_all(&store, &id).await;
    let restarted = store.restart_attempt(&ctx(at(5)), &id).await.unwrap();
    // A driver of the old id finds it gone: its claims are released, under the old id only.
    assert!(store.release_again(&ctx(at(6)), &id, &serials).await.unwrap().is_none());
    assert_eq!(pending_releases(&intents(&store, &id).await), ["SN-1", "SN-2"]);
    assert!(store.release_again(&ctx(at(6)), &restarted.id, &serials).await.unwrap().is_none());
    assert!(intents(&store, &restarted.id).await.is_empty(), "the open restarted attempt releases nothing");
}

pub async fn stale_attempts_are_leased_most_overdue_first_once_their_lease_passes(store: Store) {
    let mut attempts = Vec::new();
    for (i, serial) in ["A-1", "A-2", "A-3"].into_iter().enumerate() {
        attempts.push(begin(&store, &ctx(at(i as i64)), &new_registration(&[serial])).await.registration);
    }
    let ids: Vec<_> = attempts.iter().map(|a| a.id.clone()).collect();
    register(&store, t0(), &["DONE-1"]).await;
    assert!(
        store.lease_stale_attempts(at(30), 10).await.unwrap().is_empty(),
        "still leased to their requests"
    );
    let now = at(2) + lease();
    let first = store.lease_stale_attempts(now, 2).await.unwrap();
    let first_ids: Vec<_> = first.iter().map(|a| a.id.clone()).collect();
    assert_eq!(first_ids, ids[..2], "most overdue first, bounded");
    assert_eq!(first[0].serial_numbers, [sn("A-1")], "with the serials to release");
    let second = store.lease_stale_attempts(now, 2).await.unwrap();
    assert_eq!(second.iter().map(|a| &a.id).collect::<Vec<_>>(), [&ids[2]]);
    assert!(
        store.lease_stale_attempts(now, 2).await.unwrap().is_empty(),
        "completed or leased: nothing left"
    );

    store.complete_registration(&ctx(now), &attempts[2], &SerialPlans::new()).await.unwrap();
    assert_eq!(
        store.lease_stale_attempts(now + lease() * 10, 10).await.unwrap().len(),
        2,
        "completed attempts are never stale"
    );
    assert_eq!(store.count_open_attempts().await.unwrap(), 2);
}

/// A retry with the attempt's `request_id` renews the lease of an attempt still open: its caller
/// drives it again, so the worker leaves it alone for as long.
pub async fn a_retry_of_an_open_attempt_renews_its_lease(store: Store) {
    let (k, new) = (key(42, 1), new_registration(&["SN-1"]));
    let first = store.begin_attempt(&ctx(t0()), Some(&k), &new).await.unwrap().into_inner();
    let later = t0() + lease() * 2;
    let replay = store.begin_attempt(&ctx(later), Some(&k), &new).await.unwrap();
    assert!(replay.is_replay());
    let replay = replay.into_inner();
    assert_eq!((&replay.id, replay.lease_until), (&first.id, Some(later + lease())));
    assert!(store.lease_stale_attempts(later + lease() / 2, 10).await.unwrap().is_empty());
}
