//! Approve, deny, cancel, expire.

use chrono::Duration;
use registration_svc::domain::{RegistrationStatus, ReviewPeriod, Text, TransitionError};
use registration_svc::store::Store;

use super::*;

fn refused_from(err: TransitionError) -> RegistrationStatus {
    match err {
        TransitionError::InvalidTransition { from } => from,
        other => panic!("expected an invalid transition, got {other:?}"),
    }
}

pub async fn approve_and_deny_move_only_from_pending(store: Store) {
    let r = register(&store, t0(), &["SN-1"]).await;
    let approved = store.approve_registration(&ctx(at(1)), None, &r.id).await.unwrap();
    assert_eq!((approved.status, approved.review_time), (RegistrationStatus::Approved, Some(at(1))));
    assert_eq!(holder(&store, "SN-1").await, Some(r.id.clone()), "approval keeps the serial held");
    assert!(pending_releases(&intents(&store, &r.id).await).is_empty());
    let err = store.approve_registration(&ctx(at(2)), None, &r.id).await.unwrap_err();
    assert_eq!(refused_from(err), RegistrationStatus::Approved);
    let err = store.deny_registration(&ctx(at(2)), None, &r.id, None).await.unwrap_err();
    assert_eq!(refused_from(err), RegistrationStatus::Approved);
    let attempt = begin(&store, &ctx(at(3)), &new_registration(&["SN-2"])).await.registration.id;
    let err = store.approve_registration(&ctx(at(4)), None, &attempt).await.unwrap_err();
    assert!(matches!(err, TransitionError::NotFound), "an attempt cannot be reviewed: {err:?}");
    let err = store.approve_registration(&ctx(at(4)), None, &RegistrationId::generate()).await.unwrap_err();
    assert!(matches!(err, TransitionError::NotFound), "{err:?}");
}

pub async fn deny_releases_the_serials_and_keeps_the_reason(store: Store) {
    let r = register(&store, t0(), &["SN-1", "SN-2"]).await;
    let reason = Text::parse("no proof of purchase", 500).unwrap();
    let denied = store.deny_registration(&ctx(at(1)), None, &r.id, reason.as_ref()).await.unwrap();
    assert_eq!(denied.status, RegistrationStatus::Denied);
    assert_eq!(denied.denial_reason.as_deref(), Some("no proof of purchase"));
    assert_eq!(denied.review_time, Some(at(1)));
    assert_eq!(holder(&store, "SN-1").await, None);
    assert_eq!(pending_releases(&intents(&store, &r.id).await), ["SN-1", "SN-2"]);
    let err = store.cancel_registration(&ctx(at(2)), None, &r.id).await.unwrap_err();
    assert_eq!(refused_from(err), RegistrationStatus::Denied);
    assert_eq!(pending_releases(&intents(&store, &r.id).await).len(), 2, "released once");
}

pub async fn cancel_moves_from_pending_or_approved_and_releases_the_serials(store: Store) {
    let pending = register(&store, t0(), &["SN-1"]).await;
    let approved = register(&store, at(1), &["SN-2"]).await;
    store.approve_registration(&ctx(at(2)), None, &approved.id).await.unwrap();
    for r in [&pending, &approved] {
        let canceled = store.cancel_registration(&ctx(at(3)), None, &r.id).await.unwrap();
        assert_eq!((canceled.status, canceled.cancel_time), (RegistrationStatus::Canceled, Some(at(3))));
        assert_eq!(pending_releases(&intents(&store, &r.id).await).len(), 1);
        let err = store.cancel_registration(&ctx(at(4)), None, &r.id).await.unwrap_err();
        assert_eq!(refused_from(err), RegistrationStatus::Canceled);
    }
    assert_eq!((holder(&store, "SN-1").await, holder(&store, "SN-2").await), (None, None));
}

pub async fn expire_waits_for_the_review_period(store: Store) {
    let r = register(&store, t0(), &["SN-1"]).await;
    let period = ReviewPeriod::default();
    let early = ctx(t0() + Duration::days(30) - Duration::seconds(1));
    let err = store.expire_registration(&early, &r.id, period).await.unwrap_err();
    assert!(matches!(err, TransitionError::NotDue), "{err:?}");
    let due = ctx(t0() + Duration::days(30));
    let expired = store.expire_registration(&due, &r.id, period).await.unwrap();
    assert_eq!(expired.status, RegistrationStatus::Expired);
    assert_eq!(holder(&store, "SN-1").await, None);
    assert_eq!(pending_releases(&intents(&store, &r.id).await), ["SN-1"]);
    let approved = register(&store, at(1), &["SN-2"]).await;
    store.approve_registration(&ctx(at(2)), None, &approved.id).await.unwrap();
    let err = store.expire_registration(&due, &approved.id, period).await.unwrap_err();
    assert_eq!(refused_from(err), RegistrationStatus::Approved, "only pending registrations expire");
}

pub async fn the_expiry_sweep_takes_overdue_registrations_oldest_first_in_batches(store: Store) {
    let period = ReviewPeriod::new(Duration::days(1)).unwrap();
    let old: Vec<_> = [("SN-1", 3), ("SN-2", 1), ("SN-3", 2)]
        .into_iter()
        .map(|(s, minutes)| (s, t0() + Duration::minutes(minutes)))
        .collect();
    let mut by_serial = Vec::new();
    for (serial, time) in &old {
        by_serial.push((*serial, register(&store, *time, &[serial]).await.id));
    }
    let approved = register(&store, t0(), &["SN-4"]).await;
    store.approve_registration(&ctx(at(1)), None, &approved.id).await.unwrap();
    register(&store, t0() + Duration::hours(12), &["SN-5"]).await;
    let now = t0() + Duration::days(1) + Duration::minutes(10);
    let first = store.expire_overdue(now, period, 2).await.unwrap();
    let serials = |batch: &[Registration]| {
        batch.iter().map(|r| r.line_items[0].serial_number.clone().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(serials(&first), ["SN-2", "SN-3"], "oldest first, bounded");
    assert!(first.iter().all(|r| r.status == RegistrationStatus::Expired));
    let second = store.expire_overdue(now, period, 2).await.unwrap();
    assert_eq!(serials(&second), ["SN-1"], "approved and recent registrations stay");
    assert!(store.expire_overdue(now, period, 2).await.unwrap().is_empty());
    for (serial, id) in by_serial {
        assert_eq!(holder(&store, serial).await, None);
        assert_eq!(pending_releases(&intents(&store, &id).await), [serial]);
    }
    assert!(holder(&store, "SN-4").await.is_some() && holder(&store, "SN-5").await.is_some());
}
