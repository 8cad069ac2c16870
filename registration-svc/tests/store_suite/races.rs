//! Races are run, not argued: many tasks on a multi-threaded runtime hit one store at once.

use std::collections::{HashMap, HashSet};

use futures::future::join_all;
use registration_svc::domain::{
    AttemptState, BeginError, CompleteError, CompleteSwapError, FailError, RegistrationNumber,
    RegistrationStatus, TransitionError,
};
use registration_svc::store::Store;

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Review {
    Approve,
    Deny,
    Cancel,
}

pub async fn concurrent_reviews_of_one_registration_leave_one_consistent_outcome(store: Store) {
    let r = register(&store, t0(), &["SN-1", "SN-2"]).await;
    let tasks = (0..48).map(|i| {
        let (store, id) = (store.clone(), r.id.clone());
        let review = [Review::Approve, Review::Deny, Review::Cancel][i % 3];
        tokio::spawn(async move {
            let c = ctx(at(1));
            let result = match review {
                Review::Approve => store.approve_registration(&c, None, &id).await,
                Review::Deny => store.deny_registration(&c, None, &id, None).await,
                Review::Cancel => store.cancel_registration(&c, None, &id).await,
            };
            (review, result)
        })
    });
    let results: Vec<_> = join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    let wins = |review: Review| results.iter().filter(|(r, res)| *r == review && res.is_ok()).count();
    for (_, result) in &results {
        if let Err(err) = result {
            assert!(matches!(err, TransitionError::InvalidTransition { .. }), "{err:?}");
        }
    }
    let (approved, denied, canceled) = (wins(Review::Approve), wins(Review::Deny), wins(Review::Cancel));
    assert!(approved + denied <= 1, "approve and deny exclude each other: {approved} + {denied}");
    assert!(canceled <= 1, "one cancel at most");
    assert!(approved + denied + canceled >= 1, "someone wins");
    let last = store.get_registration(ORG, &r.id).await.unwrap().unwrap();
    let expected = match (approved, denied, canceled) {
        (_, _, 1) => RegistrationStatus::Canceled,
        (_, 1, _) => RegistrationStatus::Denied,
        _ => RegistrationStatus::Approved,
    };
    assert_eq!(last.status, expected);
    let releases = pending_releases(&intents(&store, &r.id).await);
    if expected == RegistrationStatus::Approved {
        assert!(releases.is_empty());
        assert_eq!(holder(&store, "SN-1").await, Some(r.id));
    } else {
        assert_eq!(releases, ["SN-1", "SN-2"], "each serial released exactly once");
        assert_eq!((holder(&store, "SN-1").await, holder(&store, "SN-2").await), (None, None));
    }
}

pub async fn concurrent_completions_get_distinct_sequential_numbers(store: Store) {
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(begin(&store, &ctx(t0()), &new_registration(&[&format!("SN-{i}")])).await.registration);
    }
    let tasks = ids.into_iter().map(|attempt| {
        let store = store.clone();
        tokio::spawn(
            async move { store.complete_registration(&ctx(at(1)), &attempt, &SerialPlans::new()).await },
        )
    });
    let numbers: HashSet<String> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().expect("no completion fails (no 'database is locked', no deadlock)"))
        .filter_map(|r| r.registration_number)
        .collect();
    let expected: HashSet<String> = (1..=24).map(|n| format!("ACME-REG-{n:05}")).collect();
    assert_eq!(numbers, expected, "24 distinct numbers, none skipped");
}

/// Completions in flight together (which PostgreSQL writes in shared statements) of two orgs,
/// some of them for serials another registration holds: every other one completes, each org's
/// numbers stay contiguous, and only the held ones are refused, naming their serial.
pub async fn concurrent_completions_of_two_orgs_number_each_org_and_refuse_only_held_serials(store: Store) {
    const OTHER: &str = "globex";
    let mut first_holders = Vec::new();
    for i in 0..4 {
        first_holders.push(register(&store, t0(), &[&format!("HELD-{i}")]).await.id);
    }
    let mut attempts = Vec::new();
    for i in 0..32 {
        let (org, serial) = match i % 4 {
            3 => (ORG, format!("held-{}", i / 8)),
            1 => (OTHER, format!("SN-{i}")),
            _ => (ORG, format!("SN-{i}")),
        };
        let attempt = begin(&store, &org_ctx(org, at(1)), &new_registration(&[&serial])).await;
        attempts.push((org, serial, attempt.registration));
    }
    let tasks = attempts.into_iter().map(|(org, serial, attempt)| {
        let store = store.clone();
        tokio::spawn(async move {
            let done = store.complete_registration(&org_ctx(org, at(2)), &attempt, &SerialPlans::new()).await;
            (org, serial, done)
        })
    });
    let mut numbers: HashMap<&str, HashSet<String>> = HashMap::new();
    for (org, serial, done) in join_all(tasks).await.into_iter().map(|r| r.unwrap()) {
        match done {
            Ok(r) if !serial.starts_with("held") => {
                assert_eq!(r.status, RegistrationStatus::Pending);
                numbers.entry(org).or_default().insert(r.registration_number.unwrap());
            }
            Err(CompleteError::SerialHeld { serial_number }) if serial.starts_with("held") => {
                assert_eq!(serial_number, serial)
            }
            other => panic!("{serial} of {org}: {other:?}"),
        }
    }
    let expected = |org: &str, range: std::ops::RangeInclusive<u64>| -> HashSet<String> {
        range.map(|n| RegistrationNumber::new(org, n).as_str().to_owned()).collect()
    };
    assert_eq!(numbers[ORG], expected(ORG, 5..=20), "after the 4 holders, 16 contiguous numbers");
    assert_eq!(numbers[OTHER], expected(OTHER, 1..=8), "the other org counts on its own");
    for (i, id) in first_holders.into_iter().enumerate() {
        assert_eq!(holder(&store, &format!("HELD-{i}")).await, Some(id), "still with its first holder");
    }
}

/// Begins in flight together, pairs of them with one request key: each key begins one
/// attempt, which its twin replays; the rest begin their own.
pub async fn concurrent_begins_sharing_request_keys_begin_each_key_once(store: Store) {
    let tasks = (0..24u128).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let k = (i < 16).then(|| key(100 + i / 2, 5));
            let serial = format!("SN-{}", if i < 16 { i / 2 } else { i });
            let begun = store.begin_attempt(&ctx(at(1)), k.as_ref(), &new_registration(&[&serial])).await;
            (i, serial, begun.expect("every begin is answered"))
        })
    });
    let results: Vec<_> = join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    let mut fresh = HashSet::new();
    for (i, serial, begun) in &results {
        let attempt = begun.get();
        assert_eq!(attempt.serial_numbers, [sn(serial)], "{i}");
        assert_eq!(attempt.state, AttemptState::Open, "{i}");
        if !begun.is_replay() {
            assert!(fresh.insert(attempt.id.clone()), "{i}: a fresh attempt is new");
        }
    }
    assert_eq!(fresh.len(), 16, "8 keys begin once each, 8 keyless begins");
    for pair in results.chunks(2).take(8) {
        let [(_, _, a), (_, _, b)] = pair else { unreachable!() };
        assert_eq!(a.get().id, b.get().id, "twins share one attempt");
        assert!(a.is_replay() != b.is_replay(), "one began it, the other replays it");
    }
    assert_eq!(store.count_open_attempts().await.unwrap(), 16);
}

pub async fn concurrent_complete_and_fail_of_one_attempt_have_one_winner(store: Store) {
    let attempt = begin(&store, &ctx(t0()), &new_registration(&["SN-1"])).await.registration;
    let id = attempt.id.clone();
    let tasks = (0..16).map(|i| {
        let (store, attempt) = (store.clone(), attempt.clone());
        let id = attempt.id.clone();
        tokio::spawn(async move {
            let c = ctx(at(1));
            if i % 2 == 0 {
                store
                    .complete_registration(&c, &attempt, &SerialPlans::new())
                    .await
                    .map(|_| AttemptState::Completed)
                    .map_err(|e| format!("{e:?}"))
            } else {
                let why = failure("SERIAL_REVOKED", "SN-1");
                store.fail_attempt(&c, &id, &why, &[]).await.map(|a| a.state).map_err(|e| format!("{e:?}"))
            }
        })
    });
    let results: Vec<_> = join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    let end = store.get_attempt(ORG, &id).await.unwrap().unwrap().state;
    for result in &results {
        match (end, result) {
            (AttemptState::Completed, Ok(state)) => assert_eq!(*state, AttemptState::Completed),
            (AttemptState::Completed, Err(err)) => assert_eq!(err, &format!("{:?}", FailError::Completed)),
            (AttemptState::Failed, Ok(state)) => assert_eq!(*state, AttemptState::Failed),
            (AttemptState::Failed, Err(err)) => assert_eq!(err, &format!("{:?}", CompleteError::Failed)),
            (other, _) => panic!("ended {other:?}"),
        }
    }
    let releases = pending_releases(&intents(&store, &id).await);
    let held = holder(&store, "SN-1").await;
    let written = store.get_registration(ORG, &id).await.unwrap();
    match end {
        AttemptState::Completed => {
            assert!(releases.is_empty() && held == Some(id));
            assert_eq!(written.map(|r| r.status), Some(RegistrationStatus::Pending));
        }
        _ => {
            assert!(releases == ["SN-1"] && held.is_none(), "released once, held by nobody");
            assert_eq!(written, None, "no registration was written");
        }
    }
}

pub async fn concurrent_leases_never_share_an_intent(store: Store) {
    let r = register(
        &store,
        t0(),
        &(0..40)
            .map(|i| format!("L-{i:02}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .await;
    store.cancel_registration(&ctx(t0()), None, &r.id).await.unwrap();
    let tasks = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.lease_due_intents(at(1), 10).await })
    });
    let mut leased = Vec::new();
    for batch in join_all(tasks).await {
        leased.extend(batch.unwrap().unwrap().into_iter().map(|i| i.id));
    }
    let distinct: HashSet<_> = leased.iter().collect();
    assert_eq!(distinct.len(), leased.len(), "no intent leased twice: {leased:?}");
    assert_eq!(leased.len(), 40, "every due intent leased once");
}

pub async fn a_swap_racing_a_cancel_leaves_no_serial_held_or_unreleased(store: Store) {
    for round in 0..8 {
        let (old, new) = (format!("OLD-{round}"), format!("NEW-{round}"));
        let r = register(&store, at(round), &[&old]).await;
        let swap = store.begin_swap(&ctx(at(round)), None, &sn(&old), &sn(&new)).await.unwrap().into_inner();
        let (s1, s2, id) = (store.clone(), store.clone(), r.id.clone());
        let complete = tokio::spawn(async move {
            s1.complete_swap(&ctx(at(100)), swap.claim.id, None, &SerialFacts::default()).await
        });
        let cancel = tokio::spawn(async move { s2.cancel_registration(&ctx(at(100)), None, &id).await });
        let (completed, canceled) = (complete.await.unwrap(), cancel.await.unwrap());
        canceled.expect("the cancel always wins its own transition");
        match completed {
            Ok(_) => {}
            Err(CompleteSwapError::NoLongerHeld) => {
                let why = failure("NO_LONGER_HELD", &old);
                store.abort_swap(&ctx(at(101)), swap.claim.id, &why, true).await.unwrap();
            }
            Err(other) => panic!("{other:?}"),
        }
        let mut expected = vec![new.clone(), old.clone()];
        expected.sort();
        assert_eq!(pending_releases(&intents(&store, &r.id).await), expected, "both serials released once");
        assert_eq!((holder(&store, &old).await, holder(&store, &new).await), (None, None));
    }
}

/// A creation and a review racing on one new `request_id`, in many pairs at once: in each
/// pair exactly one of them takes the key and the other is refused as its reuse. (The creation
/// keeps its key in `attempts`, the review in `request_keys`; each checks the other's table, so
/// without a lock on the key each could miss the other's uncommitted row and both succeed.)
pub async fn a_creation_and_a_review_racing_on_one_request_id_take_it_once(store: Store) {
    let mut reviewed = Vec::new();
    for i in 0..40 {
        reviewed.push(register(&store, t0(), &[&format!("REVIEWED-{i}")]).await.id);
    }
    let tasks = reviewed.into_iter().enumerate().map(|(i, id)| {
        let store = store.clone();
        tokio::spawn(async move {
            let k = key(1_000 + i as u128, 9);
            let new = new_registration(&[&format!("NEW-{i}")]);
            let (c, r) = (ctx(at(1)), ctx(at(1)));
            let (created, approved) = tokio::join!(
                store.begin_attempt(&c, Some(&k), &new),
                store.approve_registration(&r, Some(&k), &id)
            );
            (i, created.map(drop), approved.map(drop))
        })
    });
    for (i, created, approved) in join_all(tasks).await.into_iter().map(|r| r.unwrap()) {
        match (&created, &approved) {
            (Ok(()), Err(TransitionError::RequestIdReused)) | (Err(BeginError::RequestIdReused), Ok(())) => {}
            _ => panic!("pair {i}: the key was taken by both or neither: {created:?} / {approved:?}"),
        }
    }
}
