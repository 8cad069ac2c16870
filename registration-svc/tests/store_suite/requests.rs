//! `request_id` replay and reuse.

use chrono::Duration;
use registration_svc::domain::{
    AttemptState, BeginError, RegistrationPatch, RegistrationStatus, SerialPlans, TransitionError,
    UpdateError,
};
use registration_svc::store::Store;

use super::*;

pub async fn a_request_key_replays_the_attempt_it_began_in_its_current_state(store: Store) {
    let new = new_registration(&["SN-1"]);
    let k = key(1, 7);
    let first = store.begin_attempt(&ctx(t0()), Some(&k), &new).await.unwrap();
    assert!(!first.is_replay());
    let id = first.get().id.clone();
    let replay = store.begin_attempt(&ctx(at(1)), Some(&k), &new).await.unwrap();
    assert!(replay.is_replay());
    let replay = replay.into_inner();
    assert_eq!(
        (&replay.id, replay.state),
        (&id, AttemptState::Open),
        "the same attempt, still open: drive it"
    );
    let requested = new.requested(&id, ORG, at(2));
    store.complete_registration(&ctx(at(2)), &requested, &SerialPlans::new()).await.unwrap();
    let replay = store.begin_attempt(&ctx(at(3)), Some(&k), &new).await.unwrap().into_inner();
    assert_eq!((&replay.id, replay.state), (&id, AttemptState::Completed));
    assert_eq!(store.get_registration(ORG, &id).await.unwrap().unwrap().status, RegistrationStatus::Pending);

    let k2 = key(2, 7);
    let other = store.begin_attempt(&ctx(at(4)), Some(&k2), &new_registration(&["SN-2"])).await.unwrap();
    let other_id = other.into_inner().id;
    let why = failure("SERIAL_NOT_FOUND", "SN-2");
    store.fail_attempt(&ctx(at(5)), &other_id, &why, &[sn("SN-2")]).await.unwrap();
    let replay = store.begin_attempt(&ctx(at(6)), Some(&k2), &new_registration(&["SN-2"])).await.unwrap();
    let replay = replay.into_inner();
    assert_eq!((replay.id, replay.failure), (other_id, Some(why)), "a failed attempt answers its failure");
}

pub async fn a_request_key_with_another_request_is_refused(store: Store) {
    let k = key(3, 1);
    store.begin_attempt(&ctx(t0()), Some(&k), &new_registration(&["SN-1"])).await.unwrap();
    let reused = RequestKey { fingerprint: [2; 32], ..k };
    let err = store.begin_attempt(&ctx(t0()), Some(&reused), &new_registration(&["SN-9"])).await.unwrap_err();
    assert!(matches!(err, BeginError::RequestIdReused), "{err:?}");
    let r = register(&store, at(1), &["SN-2"]).await;
    let err = store.approve_registration(&ctx(at(2)), Some(&reused), &r.id).await.unwrap_err();
    assert!(matches!(err, TransitionError::RequestIdReused), "{err:?}");
    assert_eq!(
        store.get_registration(ORG, &r.id).await.unwrap().unwrap().status,
        RegistrationStatus::Pending
    );
}

pub async fn a_review_replays_its_first_answer(store: Store) {
    let r = register(&store, t0(), &["SN-1"]).await;
    let k = key(4, 1);
    let approved = store.approve_registration(&ctx(at(1)), Some(&k), &r.id).await.unwrap();
    store.cancel_registration(&ctx(at(2)), None, &r.id).await.unwrap();
    let replay = store.approve_registration(&ctx(at(3)), Some(&k), &r.id).await.unwrap();
    assert_eq!(replay, approved, "the retry gets the first answer, not an invalid transition");
}

pub async fn a_failed_mutation_does_not_keep_its_request_key(store: Store) {
    let begun = begin(&store, &ctx(t0()), &new_registration(&["SN-1"])).await;
    let id = &begun.attempt.id;
    let k = key(5, 1);
    let patch = RegistrationPatch { customer_name: Some(None), ..RegistrationPatch::default() };
    let err = store.update_registration(&ctx(at(1)), Some(&k), id, &patch).await.unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "an attempt cannot be updated: {err:?}");
    store.complete_registration(&ctx(at(2)), &begun.registration, &SerialPlans::new()).await.unwrap();
    let updated = store.update_registration(&ctx(at(3)), Some(&k), id, &patch).await.unwrap();
    assert_eq!(updated.customer_name, None, "the retry ran again once the first attempt failed");
}

pub async fn purge_forgets_old_request_keys(store: Store) {
    let k = key(6, 1);
    let new = new_registration(&["SN-1"]);
    let first = store.begin_attempt(&ctx(t0()), Some(&k), &new).await.unwrap().into_inner();
    assert_eq!(
        store.purge_request_keys(t0() + Duration::seconds(1)).await.unwrap(),
        0,
        "an open attempt stays"
    );
    store
        .fail_attempt(&ctx(t0()), &first.id, &failure("SERIAL_REVOKED", "SN-1"), &[sn("SN-1")])
        .await
        .unwrap();
    let r = register(&store, t0(), &["SN-2"]).await;
    store.approve_registration(&ctx(t0()), Some(&key(7, 1)), &r.id).await.unwrap();
    assert_eq!(store.purge_request_keys(t0()).await.unwrap(), 0, "keys newer than the cut-off stay");
    assert_eq!(
        store.purge_request_keys(t0() + Duration::seconds(1)).await.unwrap(),
        3,
        "the approval's key, and the two closed attempts"
    );
    let again = store.begin_attempt(&ctx(at(2)), Some(&k), &new).await.unwrap();
    assert!(!again.is_replay());
    assert_ne!(again.into_inner().id, first.id);
    assert_eq!(
        store.get_registration(ORG, &r.id).await.unwrap().map(|r| r.id),
        Some(r.id),
        "registrations stay"
    );
}
