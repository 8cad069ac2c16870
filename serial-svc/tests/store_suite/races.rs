//! Races are run, not argued: many tasks on a multi-threaded runtime hit one store at once.

use std::collections::HashSet;

use futures::future::join_all;
use serial_svc::domain::{ClaimError, InvalidReason};
use serial_svc::store::Store;

use super::*;

pub async fn concurrent_claims_of_one_serial_have_exactly_one_winner(store: Store) {
    seed(&store, &["RACE-1"]).await;
    let attempts = (0..64).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store.claim_serial(&ctx(t0()), None, &sn("RACE-1"), &claimant(&format!("reg-{i}"))).await
        })
    });
    let results: Vec<_> = join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    for result in &results {
        if let Err(err) = result {
            assert!(matches!(err, ClaimError::Refused(InvalidReason::AlreadyRegistered)), "{err:?}");
        }
    }
    let holder = store.get_serial(ORG, &sn("RACE-1")).await.unwrap().unwrap().claimant;
    assert_eq!(holder, winners[0].claimant);
}

pub async fn concurrent_allocations_never_share_a_serial(store: Store) {
    let numbers: Vec<String> = (0..40).map(|i| format!("POOL-{i:02}")).collect();
    seed(&store, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let attempts = (0..32).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.allocate_serial(&ctx(t0()), None, None, None).await })
    });
    let got: Vec<String> =
        join_all(attempts).await.into_iter().map(|r| r.unwrap().unwrap().serial_number).collect();
    let distinct: HashSet<_> = got.iter().collect();
    assert_eq!(distinct.len(), 32, "every caller got its own serial: {got:?}");
}

pub async fn concurrent_overlapping_batches_create_each_serial_once(store: Store) {
    // 8 batches of 500, each overlapping its neighbours by half: 2,250 distinct serials.
    let batches = (0..8).map(|b| {
        let store = store.clone();
        tokio::spawn(async move {
            let items = (0..500).map(|i| (i, serial(&format!("OV-{:05}", b * 250 + i)))).collect();
            store.create_serials(&ctx(t0()), None, items, false).await
        })
    });
    let mut created = Vec::new();
    for outcome in join_all(batches).await {
        let outcome = outcome.unwrap().expect("no batch fails as a whole (no 'database is locked')");
        assert_eq!(outcome.created.len() + outcome.errors.len(), 500, "every item is created or reported");
        created.extend(outcome.created.into_iter().map(|s| s.serial_number));
    }
    let distinct: HashSet<_> = created.iter().collect();
    assert_eq!(distinct.len(), created.len(), "no serial was created twice");
    assert_eq!(created.len(), 7 * 250 + 500);
}

pub async fn concurrent_lookups_each_get_their_own_serial(store: Store) {
    // Enough lookups at once to be answered several per statement, across two orgs, with
    // repeats and misses: each must get exactly its own answer.
    let numbers: Vec<String> = (0..100).map(|i| format!("LOOK-{i:03}")).collect();
    seed(&store, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    store.create_serials(&org_ctx("globex"), None, vec![(0, serial("LOOK-000"))], false).await.unwrap();
    let lookups = (0..400).map(|i| {
        let store = store.clone();
        let (org, number) = match i % 4 {
            0 => ("globex", format!("look-{:03}", i % 3)),
            1 => (ORG, format!("MISSING-{i}")),
            _ => (ORG, format!("look-{:03}", i % 100)),
        };
        tokio::spawn(async move { (org, number.clone(), store.get_serial(org, &sn(&number)).await) })
    });
    for joined in join_all(lookups).await {
        let (org, number, found) = joined.unwrap();
        let found = found.expect("no lookup fails").map(|serial| serial.serial_number);
        let expected = match (org, number.as_str()) {
            ("globex", "look-000") => Some("LOOK-000".to_owned()),
            ("globex", _) => None,
            (_, n) if n.starts_with("MISSING") => None,
            (_, n) => Some(n.to_ascii_uppercase()),
        };
        assert_eq!(found, expected, "{org} {number}");
    }
}

/// A batch's caller can go away at any point (a deadline, a client hanging up): the batch is
/// still written, whole, and the connection it used serves the next calls. (On PostgreSQL a
/// COPY dropped half-way left its connection unusable: the next batches on it failed.)
pub async fn a_batch_whose_caller_goes_away_is_still_written_whole(store: Store) {
    const SIZE: usize = 5_000;
    let number = |round: usize, i: usize| format!("CUT-{round}-{i:05}");
    let delays_ms = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55];
    let mut went_away = 0;
    for (round, delay_ms) in delays_ms.into_iter().enumerate() {
        let items = (0..SIZE).map(|i| (i, serial(&number(round, i)))).collect();
        let at = ctx(t0());
        let call = store.create_serials(&at, None, items, true);
        match tokio::time::timeout(std::time::Duration::from_millis(delay_ms), call).await {
            Ok(answer) => {
                let outcome = answer.unwrap_or_else(|err| panic!("round {round}: the batch failed: {err:?}"));
                assert_eq!(outcome.created.len(), SIZE, "round {round}");
            }
            Err(_elapsed) => went_away += 1,
        }
    }
    assert!(went_away > 0, "no caller went away before its batch was answered");
    // Every pooled connection (8 in the suite) serves calls afterwards.
    let calls = (0..32).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store.create_serials(&ctx(t0()), None, vec![(0, serial(&format!("AFTER-{i:02}")))], true).await
        })
    });
    for outcome in join_all(calls).await {
        assert_eq!(outcome.unwrap().expect("the pool's connections still work").created.len(), 1);
    }
    for round in 0..delays_ms.len() {
        let exists = |i: usize| {
            let (store, number) = (store.clone(), number(round, i));
            async move { store.get_serial(ORG, &sn(&number)).await.unwrap().is_some() }
        };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !exists(SIZE - 1).await {
            assert!(tokio::time::Instant::now() < deadline, "round {round}: the batch was never written");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(exists(0).await && exists(SIZE / 2).await, "round {round}: written in part");
    }
}
