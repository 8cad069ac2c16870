//! registration-svc under concurrent calls on the same serials: the claim saga's invariants hold
//! whatever the interleaving; on SQLite and on PostgreSQL.

mod support;

use futures::future::join_all;
use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::TestDb;
use support::ORG;
use support::grpc::failure;
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    thirty_two_concurrent_creations_of_one_serial_have_exactly_one_winner,
    overlapping_concurrent_creations_claim_all_or_nothing,
    concurrent_swaps_and_cancels_of_one_registration_keep_the_invariants,
    concurrent_retries_of_one_request_id_yield_one_registration,
    concurrent_reviews_and_cancels_of_one_registration_keep_the_invariants,
    crossing_swaps_and_a_competing_create_never_share_a_serial,
);

async fn thirty_two_concurrent_creations_of_one_serial_have_exactly_one_winner(db: TestDb) {
    let pair = Pair::with_serials(db, &["HOT-1"]).await;
    let c = pair.registrations(ORG);
    let calls = (0..32).map(|i| {
        let mut c = c.clone();
        async move {
            let new = registration(&format!("customer{i}@example.com"), &["HOT-1"]);
            c.create_registration(create_request(new, Some(&new_request_id()))).await
        }
    });
    let results = join_all(calls).await;
    let winners: Vec<Registration> =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.get_ref().clone()).collect();
    assert_eq!(winners.len(), 1, "exactly one creation succeeds");
    for result in &results {
        if let Err(status) = result {
            let f = failure(status);
            assert_eq!(
                (f.code, f.reason.as_str()),
                (Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"),
                "{status:?}"
            );
        }
    }
    let winner = &winners[0];
    assert_eq!(claim_of(&pair, ORG, "HOT-1").await, (SerialStatus::Registered, winner.id.clone()));
    let mut c = c.clone();
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [winner.id.as_str()]);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn overlapping_concurrent_creations_claim_all_or_nothing(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    // Ring i wants serials i and i+1 (mod 8): neighbours overlap on one serial each.
    let numbers: Vec<String> = (0..8).map(|i| format!("RING-{i}")).collect();
    add_serials(&pair, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let c = pair.registrations(ORG);
    for round in 0..3 {
        let calls = (0..8).map(|i| {
            let mut c = c.clone();
            let wanted = [numbers[i].clone(), numbers[(i + 1) % 8].clone()];
            async move {
                let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
                let new = registration(&format!("ring{i}@example.com"), &wanted);
                c.create_registration(create_request(new, Some(&new_request_id()))).await
            }
        });
        let results = join_all(calls).await;
        let won: Vec<&Registration> =
            results.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.get_ref()).collect();
        for status in results.iter().filter_map(|r| r.as_ref().err()) {
            let f = failure(status);
            assert_eq!(
                (f.code, f.reason.as_str()),
                (Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"),
                "{status:?}"
            );
        }
        assert!(won.len() <= 4, "round {round}: no serial is claimed twice, so at most 4 of 8 win");
        assert_invariants(&pair, ORG).await;
        // Each winner holds both its serials; nothing else is claimed once recovery has run.
        for reg in &won {
            for item in &reg.line_items {
                assert_eq!(
                    claim_of(&pair, ORG, &item.serial_number).await,
                    (SerialStatus::Registered, reg.id.clone())
                );
            }
        }
        let registered = all_serials(&pair, ORG).await.unwrap();
        let claimed = registered.iter().filter(|s| s.status() == SerialStatus::Registered).count();
        assert_eq!(claimed, won.len() * 2, "round {round}: losers claimed nothing");
        let mut c = c.clone();
        for reg in &won {
            let cancel = CancelRegistrationRequest { id: reg.id.clone(), ..Default::default() };
            c.cancel_registration(cancel).await.unwrap();
        }
        assert_invariants(&pair, ORG).await;
        for number in &numbers {
            wait_for_release(&pair, ORG, number).await;
        }
    }
    pair.stop().await;
}

async fn concurrent_swaps_and_cancels_of_one_registration_keep_the_invariants(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    let rounds = 6;
    let mut numbers = Vec::new();
    for round in 0..rounds {
        numbers.extend((0..5).map(|i| format!("SW-{round}-{i}")));
    }
    add_serials(&pair, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let c = pair.registrations(ORG);
    for round in 0..rounds {
        let serial = |i: usize| format!("SW-{round}-{i}");
        let mut c0 = c.clone();
        let reg = register(&mut c0, &format!("round{round}@example.com"), &[&serial(0)]).await;
        // Swaps from the held serial to three others, a chained swap, and a cancel, all at once.
        let mut calls = Vec::new();
        for (from, to) in [(0, 1), (0, 2), (0, 3), (1, 4)] {
            let mut c = c.clone();
            let swap = SwapSerialRequest {
                serial_number: serial(from),
                new_serial_number: serial(to),
                request_id: new_request_id(),
            };
            calls.push(tokio::spawn(async move { c.swap_serial(swap).await.map(|r| r.into_inner()) }));
        }
        let mut canceler = c.clone();
        let cancel = CancelRegistrationRequest { id: reg.id.clone(), request_id: new_request_id() };
        let canceled = tokio::spawn(async move { canceler.cancel_registration(cancel).await });
        for call in calls {
            match call.await.expect("call task") {
                Ok(r) => assert_eq!(r.id, reg.id, "round {round}: the registration keeps its id"),
                Err(status) => {
                    let f = failure(&status);
                    let expected = matches!(
                        f.code,
                        Code::FailedPrecondition | Code::NotFound | Code::Aborted | Code::Unavailable
                    );
                    assert!(expected, "round {round}: unexpected {status:?}");
                }
            }
        }
        if let Err(status) = canceled.await.expect("cancel task") {
            // Only a retryable refusal is acceptable while swaps are in flight: cancel again.
            assert!(shared::status::is_retryable(&status), "round {round}: cancel refused: {status:?}");
            let id = reg.id.clone();
            eventually("a retried cancel to succeed", || {
                let (mut c, id) = (c.clone(), id.clone());
                async move {
                    let cancel = CancelRegistrationRequest { id, ..Default::default() };
                    c.cancel_registration(cancel).await.ok()
                }
            })
            .await;
        }
        assert_invariants(&pair, ORG).await;
        let now =
            c0.get_registration(GetRegistrationRequest { id: reg.id.clone() }).await.unwrap().into_inner();
        assert_eq!(now.line_items.len(), 1, "round {round}: still one line item");
        assert_eq!(now.status(), RegistrationStatus::Canceled, "round {round}: canceled in the end");
        for i in 0..5 {
            wait_for_release(&pair, ORG, &serial(i)).await;
        }
    }
    pair.stop().await;
}

async fn concurrent_retries_of_one_request_id_yield_one_registration(db: TestDb) {
    let pair = Pair::with_serials(db, &["RETRY-1", "RETRY-2"]).await;
    let c = pair.registrations(ORG);
    let request =
        create_request(registration("ada@example.com", &["RETRY-1", "RETRY-2"]), Some(&new_request_id()));
    let calls = (0..16).map(|_| {
        let (mut c, request) = (c.clone(), request.clone());
        async move { c.create_registration(request).await }
    });
    let results = join_all(calls).await;
    let ids: std::collections::HashSet<String> =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.get_ref().id.clone()).collect();
    assert_eq!(ids.len(), 1, "every success is the same registration: {ids:?}");
    for status in results.iter().filter_map(|r| r.as_ref().err()) {
        // A retry racing the first call may be told to retry, never refused.
        assert!(shared::status::is_retryable(status), "{status:?}");
    }
    let mut c = c.clone();
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.len(), 1, "one request_id, one registration: {all:?}");
    for number in ["RETRY-1", "RETRY-2"] {
        assert_eq!(claim_of(&pair, ORG, number).await, (SerialStatus::Registered, all[0].id.clone()));
    }
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn concurrent_reviews_and_cancels_of_one_registration_keep_the_invariants(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    let numbers: Vec<String> = (0..8).map(|i| format!("REV-{i}")).collect();
    add_serials(&pair, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let c = pair.registrations(ORG);
    for number in &numbers {
        let mut c0 = c.clone();
        let reg = register(&mut c0, "ada@example.com", &[number]).await;
        let (mut a, mut d, mut x) = (c.clone(), c.clone(), c.clone());
        let id = reg.id.clone();
        let approve = ApproveRegistrationRequest { id: id.clone(), ..Default::default() };
        let deny = DenyRegistrationRequest { id: id.clone(), reason: "x".into(), ..Default::default() };
        let cancel = CancelRegistrationRequest { id: id.clone(), ..Default::default() };
        let (approved, denied, canceled) = tokio::join!(
            a.approve_registration(approve),
            d.deny_registration(deny),
            x.cancel_registration(cancel)
        );
        assert!(approved.is_ok() as u8 + denied.is_ok() as u8 <= 1, "{number}: approved and denied both");
        for status in
            [approved.as_ref().err(), denied.as_ref().err(), canceled.as_ref().err()].into_iter().flatten()
        {
            let f = failure(status);
            let ok = f.reason == "INVALID_STATE_TRANSITION" || shared::status::is_retryable(status);
            assert!(ok, "{number}: {status:?}");
        }
        let now = c0.get_registration(GetRegistrationRequest { id }).await.unwrap().into_inner();
        match now.status() {
            RegistrationStatus::Denied => assert!(denied.is_ok(), "{number}"),
            RegistrationStatus::Canceled => assert!(canceled.is_ok(), "{number}"),
            RegistrationStatus::Approved => assert!(approved.is_ok() && canceled.is_err(), "{number}"),
            other => panic!("{number}: {other:?} after approve, deny and cancel"),
        }
        assert_invariants(&pair, ORG).await;
    }
    pair.stop().await;
}

async fn crossing_swaps_and_a_competing_create_never_share_a_serial(db: TestDb) {
    let pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    let numbers: Vec<String> = (0..5).flat_map(|r| ["A", "B", "C"].map(|x| format!("X{r}-{x}"))).collect();
    add_serials(&pair, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let c = pair.registrations(ORG);
    for round in 0..5 {
        let serial = |x: &str| format!("X{round}-{x}");
        let mut c0 = c.clone();
        let r1 = register(&mut c0, "one@example.com", &[&serial("A")]).await;
        let r2 = register(&mut c0, "two@example.com", &[&serial("B")]).await;
        let swap = |old: String, new: String| {
            let mut c = c.clone();
            async move {
                let swap = SwapSerialRequest {
                    serial_number: old,
                    new_serial_number: new,
                    request_id: new_request_id(),
                };
                c.swap_serial(swap).await.map(|r| r.into_inner().id)
            }
        };
        let create = {
            let mut c = c.clone();
            let request =
                create_request(registration("three@example.com", &[&serial("C")]), Some(&new_request_id()));
            async move { c.create_registration(request).await.map(|r| r.into_inner().id) }
        };
        let (ab, ba, ac, created) = tokio::join!(
            swap(serial("A"), serial("B")),
            swap(serial("B"), serial("A")),
            swap(serial("A"), serial("C")),
            create
        );
        assert!(ab.is_err() || ba.is_err(), "round {round}: both crossing swaps cannot succeed");
        assert!(ac.is_err() || created.is_err(), "round {round}: X-C went to one registration only");
        assert_invariants(&pair, ORG).await;
        let holders = [&r1.id, &r2.id];
        let mut c = c.clone();
        for id in holders {
            let now =
                c.get_registration(GetRegistrationRequest { id: id.clone() }).await.unwrap().into_inner();
            assert_eq!(now.line_items.len(), 1, "round {round}");
        }
    }
    pair.stop().await;
}

/// PostgreSQL only: replicas share one database (SQLite is one process's embedded store).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_database_race_and_recover_without_breaking_the_invariants() {
    let Some(db) = TestDb::postgres().await else { return };
    let pair = Pair::start(db).await;
    let replica = pair.start_replica().await;
    seed_catalog(&pair, ORG).await;
    let numbers: Vec<String> = (0..8).map(|i| format!("REP-{i}")).collect();
    add_serials(&pair, ORG, &numbers.iter().map(String::as_str).collect::<Vec<_>>()).await;
    add_serials(&pair, ORG, &["REP-HOT"]).await;
    let clients = [pair.registrations(ORG), pair.registrations_at(replica.addr, ORG)];

    let calls = (0..32).map(|i| {
        let mut c = clients[i % 2].clone();
        async move {
            let new = registration(&format!("hot{i}@example.com"), &["REP-HOT"]);
            c.create_registration(create_request(new, Some(&new_request_id()))).await
        }
    });
    let won = join_all(calls).await.into_iter().filter(Result::is_ok).count();
    assert_eq!(won, 1, "one winner across replicas");

    // Answers lost: both replicas' workers then race to recover the attempts.
    pair.set_proxy(shared::testing::ProxyMode::SwallowResponses);
    let requests: Vec<_> = numbers
        .iter()
        .map(|n| {
            create_request(
                registration(&format!("{}@example.com", n.to_lowercase()), &[n]),
                Some(&new_request_id()),
            )
        })
        .collect();
    let calls = requests.iter().enumerate().map(|(i, request)| {
        let (mut c, request) = (clients[i % 2].clone(), request.clone());
        async move { c.create_registration(request).await }
    });
    assert!(join_all(calls).await.iter().all(Result::is_err), "no answer came back");
    pair.set_proxy(shared::testing::ProxyMode::Pass);
    assert_invariants(&pair, ORG).await;
    for (i, request) in requests.iter().enumerate() {
        // Retried on the other replica.
        let mut c = clients[(i + 1) % 2].clone();
        let request = request.clone();
        let created = eventually("the retry on the other replica", || {
            let (mut c, request) = (c.clone(), request.clone());
            async move { c.create_registration(request).await.ok() }
        })
        .await;
        let again = c.create_registration(request).await.unwrap().into_inner();
        assert_eq!(again.id, created.into_inner().id);
    }
    let mut c = clients[0].clone();
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.len(), 1 + numbers.len(), "one registration per request_id");
    assert_invariants(&pair, ORG).await;
    replica.stop().await;
    pair.stop().await;
}
