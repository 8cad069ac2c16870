//! The creation saga: begin the attempt, complete it with the registration, or fail it.

use chrono::Duration;
use futures::TryFutureExt;
use registration_svc::domain::{
    AttemptState, CompleteError, FailError, RegistrationDraft, RegistrationNumber, RegistrationStatus,
    SerialPlans,
};
use registration_svc::store::{DEFAULT_LEASE_SECS, ServiceStore, Store};

use super::*;

pub async fn begin_writes_only_a_hidden_open_attempt_holding_the_request(store: Store) {
    let begun = begin(&store, &ctx(t0()), &new_registration(&["SN-1", "", "sn-2"])).await;
    let a = &begun.attempt;
    assert_eq!((a.state, a.failure.as_ref(), a.org_id.as_str()), (AttemptState::Open, None, ORG));
    let serials: Vec<_> = a.serial_numbers.iter().map(|s| s.as_str()).collect();
    assert_eq!(serials, ["SN-1", "sn-2"], "the serials to claim, in line item order");
    assert_eq!(a.lease_until, Some(t0() + Duration::seconds(DEFAULT_LEASE_SECS)), "leased to the caller");
    assert!(a.intents.is_empty(), "no intent: the attempt stands for its claims");
    assert_eq!(
        store.get_registration(ORG, &a.id).await.unwrap(),
        None,
        "no registration before it is complete"
    );
    assert_eq!(holder(&store, "SN-1").await, None);
    assert_eq!(store.get_attempt(ORG, &a.id).await.unwrap().as_ref(), Some(a));
    let r = &begun.registration;
    assert_eq!((r.status, r.registration_number.as_ref()), (RegistrationStatus::Pending, None));
    assert_eq!(
        (r.customer_email.as_str(), r.form_slug.as_str()),
        ("Ada@Example.com", "product-registration")
    );
}

pub async fn complete_makes_the_attempt_pending_with_a_number_holdings_and_warranties(store: Store) {
    let bought = t0() - Duration::days(10);
    let new = NewRegistration::parse(&RegistrationDraft {
        purchase_date: Some(bought),
        ..draft(&["SN-1", "SN-2", "SN-3"])
    })
    .unwrap();
    let begun = begin(&store, &ctx(t0()), &new).await;
    let mut plans = plans(&["sn-1"], 24);
    plans.insert(
        &sn("SN-3"),
        WarrantyPlanTerms { id: "ext".into(), name: "Extended".into(), duration_months: 60 },
    );
    let done = store.complete_registration(&ctx(at(5)), &begun.registration, &plans).await.unwrap();
    assert_eq!(done.status, RegistrationStatus::Pending);
    assert_eq!(done.registration_number.as_deref(), Some("ACME-REG-00001"));
    assert_eq!(done.create_time, at(5), "created when it became pending");
    let first = done.line_items[0].warranty.clone().expect("SN-1 has a plan");
    assert_eq!(
        (first.coverage_start, first.coverage_end),
        (bought, Utc.with_ymd_and_hms(2028, 5, 22, 12, 0, 0).unwrap())
    );
    assert_eq!(done.warranty, Some(first), "the registration's warranty is the first line item's");
    assert_eq!(done.line_items[1].warranty, None, "SN-2 has no plan");
    assert_eq!(done.line_items[2].warranty.as_ref().unwrap().plan_name, "Extended");
    for serial in ["sn-1", "SN-2", "Sn-3"] {
        assert_eq!(holder(&store, serial).await, Some(done.id.clone()), "{serial} is held");
    }
    let attempt = store.get_attempt(ORG, &done.id).await.unwrap().unwrap();
    assert_eq!((attempt.state, attempt.lease_until), (AttemptState::Completed, None), "closed, and kept");
    assert!(attempt.intents.is_empty());
    assert_eq!(store.get_registration(ORG, &done.id).await.unwrap(), Some(done));
}

pub async fn completing_twice_changes_nothing_and_uses_one_number(store: Store) {
    let begun = begin(&store, &ctx(t0()), &new_registration(&["SN-1"])).await;
    let first =
        store.complete_registration(&ctx(at(1)), &begun.registration, &SerialPlans::new()).await.unwrap();
    let again =
        store.complete_registration(&ctx(at(2)), &begun.registration, &plans(&["SN-1"], 12)).await.unwrap();
    assert_eq!(again, first, "the second completion is a no-op");
    let next = register(&store, at(3), &["SN-2"]).await;
    assert_eq!(next.registration_number.as_deref(), Some("ACME-REG-00002"));
}

pub async fn a_failed_attempt_burns_no_number_and_releases_what_may_be_claimed(store: Store) {
    let id = begin(&store, &ctx(t0()), &new_registration(&["SN-1", "SN-2", "SN-3"])).await.attempt.id;
    let why = failure("SERIAL_ALREADY_REGISTERED", "SN-2");
    let failed = store.fail_attempt(&ctx(at(1)), &id, &why, &[sn("sn-2")]).await.unwrap();
    assert_eq!(
        (failed.state, failed.failure.as_ref(), failed.lease_until),
        (AttemptState::Failed, Some(&why), None)
    );
    assert_eq!(pending_releases(&failed.intents), ["SN-1", "SN-3"], "the refused serial was never ours");
    assert!(failed.pending_releases().all(|i| i.next_attempt_time == at(1)), "releases are due at once");
    assert_eq!(store.get_registration(ORG, &id).await.unwrap(), None, "a failed attempt is no registration");
    let again = store.fail_attempt(&ctx(at(2)), &id, &failure("OTHER", "SN-1"), &[]).await.unwrap();
    assert_eq!(again, failed, "failing again changes nothing");
    let next = register(&store, at(3), &["SN-1"]).await;
    assert_eq!(next.registration_number.as_deref(), Some("ACME-REG-00001"), "no number was burned");
}

pub async fn complete_and_fail_each_refuse_an_attempt_the_other_ended(store: Store) {
    let a = begin(&store, &ctx(t0()), &new_registration(&["SN-1"])).await.registration;
    let b = begin(&store, &ctx(t0()), &new_registration(&["SN-2"])).await.registration;
    store.fail_attempt(&ctx(at(1)), &a.id, &failure("SERIAL_REVOKED", "SN-1"), &[]).await.unwrap();
    let err = store.complete_registration(&ctx(at(2)), &a, &SerialPlans::new()).await.unwrap_err();
    assert!(matches!(err, CompleteError::Failed), "{err:?}");
    assert_eq!(store.get_registration(ORG, &a.id).await.unwrap(), None, "nothing was written");
    store.complete_registration(&ctx(at(1)), &b, &SerialPlans::new()).await.unwrap();
    let err = store.fail_attempt(&ctx(at(2)), &b.id, &failure("X", "SN-2"), &[]).await.unwrap_err();
    assert!(matches!(err, FailError::Completed), "{err:?}");
    let unknown = Registration { id: RegistrationId::generate(), ..a };
    let err = store.complete_registration(&ctx(at(2)), &unknown, &SerialPlans::new()).await.unwrap_err();
    assert!(matches!(err, CompleteError::NotFound), "{err:?}");
    let err = store.fail_attempt(&ctx(at(2)), &unknown.id, &failure("X", "SN-2"), &[]).await.unwrap_err();
    assert!(matches!(err, FailError::NotFound), "{err:?}");
}

pub async fn numbers_are_sequential_per_org_with_the_org_prefix(store: Store) {
    for (i, serial) in ["A-1", "A-2", "A-3"].into_iter().enumerate() {
        let r = register(&store, at(i as i64), &[serial]).await;
        assert_eq!(r.registration_number, Some(format!("ACME-REG-{:05}", i + 1)));
    }
    let globex = org_ctx("globex.eu", t0());
    let r = register_at(&store, &globex, &new_registration(&["A-1"])).await;
    assert_eq!(r.registration_number.as_deref(), Some("GLOBEX-EU-REG-00001"), "each org counts on its own");
}

pub async fn numbers_grow_past_five_digits_without_losing_one(store: Store) {
    // The number is formatted by the completion statement itself, in each backend's SQL.
    let mut tx = store.db().begin_write().await.unwrap();
    shared::on_tx!(&mut tx, c => sqlx::query("INSERT INTO org_counters (org_id, last_number) VALUES ($1, 99998)")
        .bind(ORG)
        .execute(c).map_ok(drop))
    .unwrap();
    tx.commit().await.unwrap();
    let five = register(&store, at(1), &["SN-1"]).await;
    let six = register(&store, at(2), &["SN-2"]).await;
    assert_eq!(five.registration_number.as_deref(), Some("ACME-REG-99999"));
    assert_eq!(six.registration_number.as_deref(), Some("ACME-REG-100000"));
    assert_eq!(
        store.lookup_by_number(ORG, &RegistrationNumber::parse("acme-reg-100000").unwrap()).await.unwrap(),
        Some(six)
    );
}

pub async fn a_serial_held_by_another_registration_is_refused_at_completion(store: Store) {
    let first = register(&store, t0(), &["SN-1"]).await;
    let begun = begin(&store, &ctx(at(1)), &new_registration(&["SN-2", "sn-1"])).await;
    let id = &begun.attempt.id;
    let err =
        store.complete_registration(&ctx(at(2)), &begun.registration, &SerialPlans::new()).await.unwrap_err();
    assert!(
        matches!(&err, CompleteError::SerialHeld { serial_number } if serial_number == "sn-1"),
        "{err:?}"
    );
    let after = store.get_attempt(ORG, id).await.unwrap().unwrap();
    assert_eq!(after.state, AttemptState::Open, "nothing was written");
    assert_eq!(store.get_registration(ORG, id).await.unwrap(), None);
    assert_eq!(holder(&store, "SN-2").await, None);
    assert_eq!(holder(&store, "SN-1").await, Some(first.id));
    let next = register(&store, at(3), &["SN-3"]).await;
    assert_eq!(next.registration_number.as_deref(), Some("ACME-REG-00002"));
}

pub async fn a_registration_without_serials_is_pending_at_once_and_owes_serial_svc_nothing(store: Store) {
    let new = new_registration(&["", ""]);
    let started = store.register_without_serials(&ctx(t0()), Some(&key(7, 1)), &new).await.unwrap();
    assert!(!started.is_replay());
    let r = &started.into_inner();
    assert!(intents(&store, &r.id).await.is_empty(), "nothing owed to serial-svc");
    let attempt = store.get_attempt(ORG, &r.id).await.unwrap().unwrap();
    assert_eq!(attempt.state, AttemptState::Completed, "the attempt is the idempotency record");
    assert_eq!(
        (r.status, r.registration_number.as_deref()),
        (RegistrationStatus::Pending, Some("ACME-REG-00001"))
    );
    assert_eq!((r.warranty.clone(), r.serial_numbers().count()), (None, 0));
    assert!(r.line_items.iter().all(|item| item.serial_number.is_none()));
    assert_eq!(store.get_registration(ORG, &r.id).await.unwrap().as_ref(), Some(r));
    let replay = store.register_without_serials(&ctx(at(1)), Some(&key(7, 1)), &new).await.unwrap();
    assert!(replay.is_replay());
    assert_eq!(&replay.into_inner(), r, "a retry answers the first");
    let next = register(&store, at(2), &["SN-1"]).await;
    assert_eq!(next.registration_number.as_deref(), Some("ACME-REG-00002"), "one counter for both");
}

pub async fn a_mixed_registration_claims_and_holds_only_its_serials(store: Store) {
    let begun = begin(&store, &ctx(t0()), &new_registration(&["", "SN-1", "", "SN-2"])).await;
    let claims: Vec<_> = begun.attempt.serial_numbers.iter().map(|s| s.as_str()).collect();
    assert_eq!(claims, ["SN-1", "SN-2"]);
    let plans = plans(&["SN-1"], 12);
    let done = store.complete_registration(&ctx(at(1)), &begun.registration, &plans).await.unwrap();
    let serials: Vec<_> = done.line_items.iter().map(|i| i.serial_number.as_deref()).collect();
    assert_eq!(serials, [None, Some("SN-1"), None, Some("SN-2")]);
    assert_eq!(done.line_items[0].warranty, None);
    let first = done.line_items[1].warranty.clone().expect("SN-1 has a plan");
    assert_eq!(done.warranty, Some(first), "the first serialized line item's warranty");
    assert_eq!(store.get_registration(ORG, &done.id).await.unwrap().as_ref(), Some(&done));
    assert_eq!(holder(&store, "SN-2").await, Some(done.id.clone()));
    let canceled = store.cancel_registration(&ctx(at(2)), None, &done.id).await.unwrap();
    assert_eq!(pending_releases(&intents(&store, &canceled.id).await), ["SN-1", "SN-2"]);
}
