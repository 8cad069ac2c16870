use chrono::Duration;
use serial_svc::domain::{AllocateError, ClaimError, RequestKey};
use serial_svc::store::Store;

use super::*;

fn key(id: u128, fingerprint: u8) -> RequestKey {
    RequestKey { request_id: uuid::Uuid::from_u128(id), fingerprint: [fingerprint; 32] }
}

pub async fn a_request_key_replays_the_first_answer(store: Store) {
    seed(&store, &["K-1", "K-2"]).await;
    let k = key(1, 7);
    let first = store.allocate_serial(&ctx(t0()), Some(&k), None, None).await.unwrap();
    let later = ctx(t0() + Duration::minutes(1));
    let replay = store.allocate_serial(&later, Some(&k), None, None).await.unwrap();
    assert_eq!(first, replay, "the retry gets the first answer, not a second serial");
    let other = store.allocate_serial(&later, Some(&key(2, 7)), None, None).await.unwrap();
    assert_ne!(other.serial_number, first.serial_number);
}

pub async fn a_request_key_with_another_request_is_refused(store: Store) {
    seed(&store, &["K-3"]).await;
    let k = key(3, 1);
    store.claim_serial(&ctx(t0()), Some(&k), &sn("K-3"), &claimant("reg-1")).await.unwrap();
    let reused = RequestKey { fingerprint: [2; 32], ..k };
    let err =
        store.claim_serial(&ctx(t0()), Some(&reused), &sn("K-3"), &claimant("reg-2")).await.unwrap_err();
    assert!(matches!(err, ClaimError::RequestIdReused), "{err:?}");
}

pub async fn a_failed_attempt_does_not_keep_its_request_key(store: Store) {
    let k = key(4, 1);
    let err = store.allocate_serial(&ctx(t0()), Some(&k), None, None).await.unwrap_err();
    assert!(matches!(err, AllocateError::NoneAvailable), "{err:?}");
    seed(&store, &["K-4"]).await;
    let got = store.allocate_serial(&ctx(t0()), Some(&k), None, None).await.unwrap();
    assert_eq!(got.serial_number, "K-4", "the retry runs again once the first attempt failed");
}

pub async fn purge_forgets_old_request_keys(store: Store) {
    seed(&store, &["K-5", "K-6"]).await;
    let k = key(5, 1);
    let first = store.allocate_serial(&ctx(t0()), Some(&k), None, None).await.unwrap();
    assert_eq!(store.purge_request_keys(t0()).await.unwrap(), 0, "keys newer than the cut-off stay");
    assert_eq!(store.purge_request_keys(t0() + Duration::seconds(1)).await.unwrap(), 1);
    let again = store.allocate_serial(&ctx(t0()), Some(&k), None, None).await.unwrap();
    assert_ne!(again.serial_number, first.serial_number);
}
