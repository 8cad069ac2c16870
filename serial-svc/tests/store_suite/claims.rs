use chrono::Duration;
use serial_svc::domain::{
    AllocateError, ClaimError, EventKind, InvalidReason, ReleaseError, SerialStatus, Sku,
};
use serial_svc::store::Store;

use super::*;

pub async fn claim_moves_an_active_serial_to_its_claimant_once(store: Store) {
    seed(&store, &["C-1"]).await;
    let claimed = store.claim_serial(&ctx(t0()), None, &sn("c-1"), &claimant("reg-1")).await.unwrap();
    assert_eq!(claimed.claimant.as_deref(), Some("reg-1"));
    assert_eq!(claimed.status(t0()), SerialStatus::Registered);
    assert_eq!(claimed.claim_time, Some(t0()));
    let later = ctx(t0() + Duration::minutes(5));
    let again = store.claim_serial(&later, None, &sn("C-1"), &claimant("reg-1")).await.unwrap();
    assert_eq!(again.claim_time, Some(t0()), "a repeated claim changes nothing");
    let events = store.list_serial_events(ORG, &sn("C-1"), None, 100).await.unwrap().unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == EventKind::Claimed).count(), 1);
}

pub async fn claim_by_a_second_claimant_is_refused(store: Store) {
    seed(&store, &["C-2"]).await;
    store.claim_serial(&ctx(t0()), None, &sn("C-2"), &claimant("reg-1")).await.unwrap();
    let err = store.claim_serial(&ctx(t0()), None, &sn("C-2"), &claimant("reg-2")).await.unwrap_err();
    assert!(matches!(err, ClaimError::Refused(InvalidReason::AlreadyRegistered)), "{err:?}");
    let err = store.claim_serial(&ctx(t0()), None, &sn("ABSENT"), &claimant("reg-2")).await.unwrap_err();
    assert!(matches!(err, ClaimError::NotFound), "{err:?}");
}

pub async fn claim_refusals_follow_the_validity_window(store: Store) {
    // valid from t0+1h until t0+10h, registrable until t0+5h
    let items = vec![(0, windowed("W-1", 1, 10, 5))];
    store.create_serials(&ctx(t0()), None, items, true).await.unwrap();
    let at = |h: i64| ctx(t0() + Duration::hours(h));
    let refusal = |r: Result<_, ClaimError>| match r {
        Err(ClaimError::Refused(reason)) => Some(reason),
        Ok(_) => None,
        Err(other) => panic!("unexpected {other:?}"),
    };
    let who = claimant("reg-1");
    assert_eq!(
        refusal(store.claim_serial(&at(0), None, &sn("W-1"), &who).await),
        Some(InvalidReason::NotYetValid)
    );
    assert_eq!(
        refusal(store.claim_serial(&at(11), None, &sn("W-1"), &who).await),
        Some(InvalidReason::Expired)
    );
    assert_eq!(
        refusal(store.claim_serial(&at(6), None, &sn("W-1"), &who).await),
        Some(InvalidReason::RegistrationPeriodEnded)
    );
    assert_eq!(refusal(store.claim_serial(&at(2), None, &sn("W-1"), &who).await), None);
}

pub async fn claim_of_a_revoked_serial_is_refused_as_revoked(store: Store) {
    seed(&store, &["R-1"]).await;
    store.claim_serial(&ctx(t0()), None, &sn("R-1"), &claimant("reg-1")).await.unwrap();
    store.revoke_serial(&ctx(t0()), None, &sn("R-1"), "stolen").await.unwrap();
    // Revoked comes before already registered, even for the holder itself.
    for who in ["reg-1", "reg-2"] {
        let err = store.claim_serial(&ctx(t0()), None, &sn("R-1"), &claimant(who)).await.unwrap_err();
        assert!(matches!(err, ClaimError::Refused(InvalidReason::Revoked)), "{err:?}");
    }
}

pub async fn release_is_only_for_the_claimant_and_idempotent(store: Store) {
    seed(&store, &["REL-1"]).await;
    store.claim_serial(&ctx(t0()), None, &sn("REL-1"), &claimant("reg-1")).await.unwrap();
    let err =
        store.release_serial(&ctx(t0()), None, &sn("REL-1"), &claimant("reg-2"), None).await.unwrap_err();
    assert!(matches!(err, ReleaseError::NotClaimant), "{err:?}");
    let released =
        store.release_serial(&ctx(t0()), None, &sn("REL-1"), &claimant("reg-1"), None).await.unwrap();
    assert_eq!(released.claimant, None);
    assert_eq!(released.status(t0()), SerialStatus::Active);
    store.release_serial(&ctx(t0()), None, &sn("REL-1"), &claimant("reg-1"), None).await.unwrap();
    let err =
        store.release_serial(&ctx(t0()), None, &sn("NOPE"), &claimant("reg-1"), None).await.unwrap_err();
    assert!(matches!(err, ReleaseError::NotFound), "{err:?}");
    let events = store.list_serial_events(ORG, &sn("REL-1"), None, 100).await.unwrap().unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == EventKind::Released).count(), 1);
    // Free again: another registration can claim it.
    store.claim_serial(&ctx(t0()), None, &sn("REL-1"), &claimant("reg-2")).await.unwrap();
}

pub async fn release_as_part_of_a_swap_is_recorded_as_swapped(store: Store) {
    seed(&store, &["OLD-1", "NEW-1"]).await;
    store.claim_serial(&ctx(t0()), None, &sn("OLD-1"), &claimant("reg-1")).await.unwrap();
    store.claim_serial(&ctx(t0()), None, &sn("NEW-1"), &claimant("reg-1")).await.unwrap();
    store
        .release_serial(&ctx(t0()), None, &sn("OLD-1"), &claimant("reg-1"), Some(&sn("NEW-1")))
        .await
        .unwrap();
    let events = store.list_serial_events(ORG, &sn("OLD-1"), None, 100).await.unwrap().unwrap();
    let last = events.last().unwrap();
    assert_eq!((last.kind, last.detail.as_deref()), (EventKind::Swapped, Some("NEW-1")));
}

pub async fn revoke_applies_whatever_the_status_and_only_once(store: Store) {
    seed(&store, &["V-1", "V-2"]).await;
    store.claim_serial(&ctx(t0()), None, &sn("V-2"), &claimant("reg-1")).await.unwrap();
    for number in ["V-1", "V-2"] {
        let revoked = store.revoke_serial(&ctx(t0()), None, &sn(number), "recall").await.unwrap();
        assert_eq!(revoked.status(t0()), SerialStatus::Revoked);
        assert_eq!(revoked.revoke_reason.as_deref(), Some("recall"));
    }
    let later = ctx(t0() + Duration::hours(1));
    let again = store.revoke_serial(&later, None, &sn("V-1"), "other").await.unwrap();
    assert_eq!((again.revoke_time, again.revoke_reason.as_deref()), (Some(t0()), Some("recall")));
    let events = store.list_serial_events(ORG, &sn("V-1"), None, 100).await.unwrap().unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == EventKind::Revoked).count(), 1);
    assert!(store.revoke_serial(&ctx(t0()), None, &sn("NOPE"), "x").await.is_err());
}

pub async fn allocate_hands_out_each_available_serial_once(store: Store) {
    store.create_product(&ctx(t0()), None, product("DRILL", None, None)).await.unwrap();
    let drill = |n: &str| NewSerial { product_sku: Some(Sku::parse("DRILL").unwrap()), ..serial(n) };
    let items = vec![
        (0, serial("A-CLAIMED")),
        (1, serial("A-REVOKED")),
        (2, windowed("A-EXPIRED", -10, -1, -2)),
        (3, serial("A-FREE")),
        (4, drill("A-DRILL")),
    ];
    store.create_serials(&ctx(t0()), None, items, true).await.unwrap();
    store.claim_serial(&ctx(t0()), None, &sn("A-CLAIMED"), &claimant("reg-1")).await.unwrap();
    store.revoke_serial(&ctx(t0()), None, &sn("A-REVOKED"), "recall").await.unwrap();

    let sku = Sku::parse("DRILL").unwrap();
    let first = store.allocate_serial(&ctx(t0()), None, Some(&sku), None).await.unwrap();
    assert_eq!(first.serial_number, "A-DRILL");
    assert_eq!(first.allocate_time, Some(t0()));
    assert_eq!(first.claimant, None, "allocation without a claimant leaves it claimable");
    let next = store.allocate_serial(&ctx(t0()), None, None, None).await.unwrap();
    assert_eq!(next.serial_number, "A-FREE");
    let err = store.allocate_serial(&ctx(t0()), None, None, None).await.unwrap_err();
    assert!(matches!(err, AllocateError::NoneAvailable), "{err:?}");
}

pub async fn allocate_with_a_claimant_claims_in_the_same_step(store: Store) {
    seed(&store, &["AC-1"]).await;
    let got = store.allocate_serial(&ctx(t0()), None, None, Some(&claimant("reg-9"))).await.unwrap();
    assert_eq!((got.serial_number.as_str(), got.claimant.as_deref()), ("AC-1", Some("reg-9")));
    assert_eq!(got.status(t0()), SerialStatus::Registered);
    let kinds: Vec<_> = store
        .list_serial_events(ORG, &sn("AC-1"), None, 10)
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::Created, EventKind::Allocated, EventKind::Claimed]);
}

pub async fn history_lists_every_change_oldest_first_with_its_actor(store: Store) {
    seed(&store, &["H-1"]).await;
    let at = |m: i64| ctx(t0() + Duration::minutes(m));
    store.claim_serial(&at(1), None, &sn("H-1"), &claimant("reg-1")).await.unwrap();
    store.release_serial(&at(2), None, &sn("H-1"), &claimant("reg-1"), None).await.unwrap();
    store.revoke_serial(&org_ctx(ORG), None, &sn("H-1"), "fraud").await.unwrap();
    let events = store.list_serial_events(ORG, &sn("h-1"), None, 100).await.unwrap().unwrap();
    let summary: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.actor.as_str(), e.claimant.as_deref(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (EventKind::Created, "alice", None, None),
            (EventKind::Claimed, "alice", Some("reg-1"), None),
            (EventKind::Released, "alice", Some("reg-1"), None),
            (EventKind::Revoked, "bob", None, Some("fraud")),
        ]
    );
    assert_eq!(events[1].time, t0() + Duration::minutes(1));
    let rest = store.list_serial_events(ORG, &sn("H-1"), Some(events[1].id), 100).await.unwrap().unwrap();
    assert_eq!(rest.len(), 2);
}
