//! `SwapSerial`: begin, complete, abort.

use registration_svc::domain::{
    AbortSwapError, CompleteSwapError, IntentState, RegistrationStatus, SwapError, SwapOutcome,
};
use registration_svc::store::Store;

use super::*;

fn plan(months: u32) -> WarrantyPlanTerms {
    WarrantyPlanTerms { id: "gold".into(), name: "Gold".into(), duration_months: months }
}

pub async fn swap_moves_the_line_item_and_the_holding_to_the_new_serial(store: Store) {
    let r = register(&store, t0(), &["OLD-1", "KEEP-2"]).await;
    let swap = store.begin_swap(&ctx(at(1)), None, &sn("old-1"), &sn("NEW-1")).await.unwrap().into_inner();
    assert_eq!(swap.outcome(), SwapOutcome::InFlight);
    assert_eq!(
        (swap.claim.serial_number.as_str(), swap.claim.replaces.as_ref()),
        ("NEW-1", Some(&sn("old-1")))
    );
    assert_eq!(swap.claim.registration_id, r.id, "claimed by the registration");
    assert_eq!(holder(&store, "OLD-1").await, Some(r.id.clone()), "nothing moves before the claim");
    let done = store
        .complete_swap(&ctx(at(2)), swap.claim.id, Some(&plan(12)), &SerialFacts::default())
        .await
        .unwrap();
    assert_eq!(done.id, r.id);
    assert_eq!(done.registration_number, r.registration_number, "same registration, same number");
    assert_eq!(done.serial_numbers().collect::<Vec<_>>(), ["NEW-1", "KEEP-2"]);
    let warranty = done.line_items[0].warranty.clone().unwrap();
    assert_eq!((warranty.plan_id.as_str(), warranty.coverage_start), ("gold", r.create_time));
    assert_eq!(done.warranty, Some(warranty), "the first line item's warranty is the registration's");
    assert_eq!(holder(&store, "NEW-1").await, Some(r.id.clone()));
    assert_eq!(holder(&store, "OLD-1").await, None);
    let all = intents(&store, &r.id).await;
    assert_eq!(pending_releases(&all), ["OLD-1"]);
    let release =
        all.iter().find(|i| i.serial_number.as_str() == "OLD-1" && i.state == IntentState::Pending).unwrap();
    assert_eq!(release.replaced_by, Some(sn("NEW-1")), "serial-svc records a swap");
    let swap = store.get_swap(ORG, swap.claim.id).await.unwrap().unwrap();
    assert_eq!(swap.outcome(), SwapOutcome::Completed);
    let again = store.complete_swap(&ctx(at(3)), swap.claim.id, None, &SerialFacts::default()).await.unwrap();
    assert_eq!(again, done, "completing again changes nothing");
    let err = store.abort_swap(&ctx(at(3)), swap.claim.id, &failure("X", "NEW-1"), true).await.unwrap_err();
    assert!(matches!(err, AbortSwapError::Completed), "{err:?}");
}

pub async fn swap_refuses_what_cannot_be_swapped(store: Store) {
    let r = register(&store, t0(), &["SN-1", "SN-2"]).await;
    register(&store, at(1), &["OTHER-1"]).await;
    let refusal = |result: Result<_, SwapError>| result.err().map(|e| format!("{e:?}"));
    let c = ctx(at(2));
    assert_eq!(
        refusal(store.begin_swap(&c, None, &sn("SN-1"), &sn("sn-1")).await).as_deref(),
        Some("SameSerial")
    );
    assert_eq!(
        refusal(store.begin_swap(&c, None, &sn("FREE-1"), &sn("NEW-1")).await).as_deref(),
        Some("NotHeld")
    );
    assert_eq!(
        refusal(store.begin_swap(&c, None, &sn("SN-1"), &sn("SN-2")).await).as_deref(),
        Some("NewSerialHeld")
    );
    assert_eq!(
        refusal(store.begin_swap(&c, None, &sn("SN-1"), &sn("OTHER-1")).await).as_deref(),
        Some("NewSerialHeld")
    );
    store.begin_swap(&c, None, &sn("SN-1"), &sn("NEW-1")).await.unwrap();
    assert_eq!(
        refusal(store.begin_swap(&c, None, &sn("SN-2"), &sn("NEW-2")).await).as_deref(),
        Some("SwapInFlight")
    );
    store.cancel_registration(&ctx(at(3)), None, &r.id).await.unwrap();
    assert_eq!(
        refusal(store.begin_swap(&c, None, &sn("SN-2"), &sn("NEW-2")).await).as_deref(),
        Some("NotHeld")
    );
}

pub async fn an_aborted_swap_changes_nothing_but_releasing_the_new_serial(store: Store) {
    let r = register(&store, t0(), &["SN-1", "SN-2"]).await;
    let refused = store.begin_swap(&ctx(at(1)), None, &sn("SN-1"), &sn("NEW-1")).await.unwrap().into_inner();
    let why = failure("SERIAL_REVOKED", "NEW-1");
    let aborted = store.abort_swap(&ctx(at(2)), refused.claim.id, &why, false).await.unwrap();
    assert_eq!(aborted.outcome(), SwapOutcome::Aborted(why.clone()));
    assert!(pending_releases(&intents(&store, &r.id).await).is_empty(), "a refused claim holds nothing");
    let again =
        store.abort_swap(&ctx(at(3)), refused.claim.id, &failure("OTHER", "NEW-1"), true).await.unwrap();
    assert_eq!(again, aborted, "aborting again changes nothing");
    let err =
        store.complete_swap(&ctx(at(3)), refused.claim.id, None, &SerialFacts::default()).await.unwrap_err();
    assert!(matches!(err, CompleteSwapError::Aborted), "{err:?}");

    let unsure = store.begin_swap(&ctx(at(4)), None, &sn("SN-2"), &sn("NEW-2")).await.unwrap().into_inner();
    store
        .abort_swap(&ctx(at(5)), unsure.claim.id, &failure("DEPENDENCY_UNAVAILABLE", "NEW-2"), true)
        .await
        .unwrap();
    assert_eq!(
        pending_releases(&intents(&store, &r.id).await),
        ["NEW-2"],
        "a claim that may have succeeded is released"
    );
    let unchanged = store.get_registration(ORG, &r.id).await.unwrap().unwrap();
    assert_eq!(unchanged.serial_numbers().collect::<Vec<_>>(), ["SN-1", "SN-2"]);
    assert_eq!(holder(&store, "SN-2").await, Some(r.id));
}

pub async fn a_swap_cannot_complete_once_its_registration_stopped_holding(store: Store) {
    let r = register(&store, t0(), &["SN-1"]).await;
    let swap = store.begin_swap(&ctx(at(1)), None, &sn("SN-1"), &sn("NEW-1")).await.unwrap().into_inner();
    store.cancel_registration(&ctx(at(2)), None, &r.id).await.unwrap();
    let err =
        store.complete_swap(&ctx(at(3)), swap.claim.id, None, &SerialFacts::default()).await.unwrap_err();
    assert!(matches!(err, CompleteSwapError::NoLongerHeld), "{err:?}");
    let canceled = store.get_registration(ORG, &r.id).await.unwrap().unwrap();
    assert_eq!(
        (canceled.status, canceled.line_items[0].serial_number.as_deref()),
        (RegistrationStatus::Canceled, Some("SN-1"))
    );
    store.abort_swap(&ctx(at(4)), swap.claim.id, &failure("NO_LONGER_HELD", "SN-1"), true).await.unwrap();
    assert_eq!(pending_releases(&intents(&store, &r.id).await), ["NEW-1", "SN-1"]);
    assert_eq!(holder(&store, "NEW-1").await, None);
}

pub async fn a_swap_request_key_replays_the_swap_in_its_current_state(store: Store) {
    register(&store, t0(), &["SN-1"]).await;
    let k = key(10, 3);
    let first = store.begin_swap(&ctx(at(1)), Some(&k), &sn("SN-1"), &sn("NEW-1")).await.unwrap();
    let claim_id = first.get().claim.id;
    store.complete_swap(&ctx(at(2)), claim_id, None, &SerialFacts::default()).await.unwrap();
    // The serial moved, but the retry still answers the swap it began.
    let replay = store.begin_swap(&ctx(at(3)), Some(&k), &sn("SN-1"), &sn("NEW-1")).await.unwrap();
    assert!(replay.is_replay());
    let replay = replay.into_inner();
    assert_eq!((replay.claim.id, replay.outcome()), (claim_id, SwapOutcome::Completed));
    let reused = RequestKey { fingerprint: [4; 32], ..k };
    let err = store.begin_swap(&ctx(at(3)), Some(&reused), &sn("NEW-1"), &sn("NEW-2")).await.unwrap_err();
    assert!(matches!(err, SwapError::RequestIdReused), "{err:?}");
}

pub async fn a_swap_to_a_serial_of_another_product_is_refused_and_writes_nothing(store: Store) {
    let mut draft = draft(&["OLD-1"]);
    draft.line_items[0].sku = "DRILL".into();
    let r = register_at(&store, &ctx(t0()), &NewRegistration::parse(&draft).unwrap()).await;
    let swap = store.begin_swap(&ctx(at(1)), None, &sn("OLD-1"), &sn("NEW-1")).await.unwrap().into_inner();
    let saw = SerialFacts { product_sku: Some("SAW".into()), ..SerialFacts::default() };
    let err = store.complete_swap(&ctx(at(2)), swap.claim.id, None, &saw).await.unwrap_err();
    assert!(
        matches!(&err, CompleteSwapError::ProductMismatch { sku, product_sku } if sku == "DRILL" && product_sku == "SAW"),
        "{err:?}"
    );
    let lowercase = SerialFacts { product_sku: Some("drill".into()), ..SerialFacts::default() };
    let err = store.complete_swap(&ctx(at(2)), swap.claim.id, None, &lowercase).await.unwrap_err();
    assert!(matches!(err, CompleteSwapError::ProductMismatch { .. }), "SKUs are exact: {err:?}");
    assert_eq!(store.get_registration(ORG, &r.id).await.unwrap(), Some(r.clone()), "nothing written");
    assert_eq!(holder(&store, "OLD-1").await, Some(r.id.clone()));
    let drill = SerialFacts { product_sku: Some("DRILL".into()), ..SerialFacts::default() };
    let done = store.complete_swap(&ctx(at(3)), swap.claim.id, None, &drill).await.unwrap();
    assert_eq!(done.serial_numbers().collect::<Vec<_>>(), ["NEW-1"], "the same product fits");
}
