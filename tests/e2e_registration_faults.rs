//! registration-svc while serial-svc is down or its answers are lost: UNAVAILABLE with nothing
//! half-done visible, and UNAVAILABLE means nothing happened: the recovery worker only rolls an
//! attempt back (its claims released), and only a retry with the same request_id finishes it;
//! on SQLite and on PostgreSQL.

mod support;

use std::time::Duration;

use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::{ProxyMode, TestDb};
use support::ORG;
use support::grpc::{Failure, expect_err, failure};
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    a_create_while_serial_svc_is_down_is_unavailable_and_leaves_nothing_visible,
    a_claim_whose_answer_is_lost_is_recovered_and_replayed_once,
    a_cancel_while_serial_svc_is_down_releases_the_serial_once_it_is_back,
    a_swap_whose_answers_are_lost_ends_consistent,
    after_an_unavailable_create_the_serial_is_released_and_a_new_request_id_registers_it,
    a_retry_with_the_same_request_id_after_the_rollback_creates_the_registration,
);

/// Creates with serial-svc's answers swallowed: the claims reach serial-svc, the caller is told
/// UNAVAILABLE; then the answers flow again.
async fn create_with_answers_lost(pair: &Pair, c: &mut Registrations, request: &CreateRegistrationRequest) {
    pair.set_proxy(ProxyMode::SwallowResponses);
    assert_dependency_unavailable(&c.create_registration(request.clone()).await.expect_err("answers lost"));
    pair.set_proxy(ProxyMode::Pass);
}

fn assert_dependency_unavailable(status: &tonic::Status) -> Failure {
    let f = failure(status);
    assert_eq!(
        (f.code, f.reason.as_str(), f.domain.as_str()),
        (Code::Unavailable, "DEPENDENCY_UNAVAILABLE", "registration.regserial"),
        "{status:?}"
    );
    assert!(shared::status::retry_delay(status).is_some(), "UNAVAILABLE carries RetryInfo: {status:?}");
    f
}

/// Retries `request` while the answer is UNAVAILABLE, as a client honouring RetryInfo does
/// (bounded: 15 s), and returns the first other answer.
async fn retry_create(
    c: &mut Registrations,
    request: &CreateRegistrationRequest,
) -> Result<Registration, tonic::Status> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match c.create_registration(request.clone()).await {
            Err(status) if status.code() == Code::Unavailable && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other.map(tonic::Response::into_inner),
        }
    }
}

async fn a_create_while_serial_svc_is_down_is_unavailable_and_leaves_nothing_visible(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["DOWN-1", "DOWN-2"]).await;
    let mut c = pair.registrations(ORG);
    pair.stop_serial().await;

    let request =
        create_request(registration("ada@example.com", &["DOWN-1", "DOWN-2"]), Some(&new_request_id()));
    let status = c.create_registration(request.clone()).await.expect_err("serial-svc is down");
    assert_dependency_unavailable(&status);
    assert!(
        list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().is_empty(),
        "nothing visible"
    );
    let lookup = LookupRegistrationRequest {
        key: Some(lookup_registration_request::Key::SerialNumber("DOWN-1".into())),
    };
    assert_eq!(expect_err(c.lookup_registration(lookup).await).code, Code::NotFound);
    // A second call with the same request_id while still down is UNAVAILABLE as well.
    assert_dependency_unavailable(&c.create_registration(request.clone()).await.expect_err("still down"));

    pair.start_serial().await;
    let created =
        retry_create(&mut c, &request).await.expect("the same request_id succeeds once serial-svc is back");
    assert_eq!(created.status(), RegistrationStatus::Pending);
    let again = c.create_registration(request).await.expect("replay").into_inner();
    assert_eq!(again.id, created.id);
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [created.id.as_str()]);
    for number in ["DOWN-1", "DOWN-2"] {
        assert_eq!(claim_of(&pair, ORG, number).await, (SerialStatus::Registered, created.id.clone()));
    }
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_claim_whose_answer_is_lost_is_recovered_and_replayed_once(db: TestDb) {
    let pair = Pair::with_serials(db, &["LOST-1", "LOST-2", "LOST-3"]).await;
    let mut c = pair.registrations(ORG);
    pair.set_proxy(ProxyMode::SwallowResponses);

    let request = create_request(registration("ada@example.com", &["LOST-1"]), Some(&new_request_id()));
    let status = c.create_registration(request.clone()).await.expect_err("the answers never arrive");
    assert_dependency_unavailable(&status);
    // serial-svc did the work: the claim is committed there, under some claimant.
    let (claimed, _) = claim_of(&pair, ORG, "LOST-1").await;
    assert_eq!(claimed, SerialStatus::Registered, "the claim reached serial-svc");
    assert!(
        list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().is_empty(),
        "nothing visible"
    );
    // Without a request_id the caller cannot retry; recovery must still settle it.
    let anonymous = create_request(registration("bob@example.com", &["LOST-2"]), None);
    assert_dependency_unavailable(&c.create_registration(anonymous).await.expect_err("lost"));

    pair.set_proxy(ProxyMode::Pass);
    assert_invariants(&pair, ORG).await;
    let created = retry_create(&mut c, &request).await.expect("the retry answers the registration");
    // The retry drives the attempt on (its id the claimant), or restarts it under a new id if
    // recovery rolled it back first: either way the serial ends claimed by what it answers.
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.iter().filter(|r| r.customer_email == "ada@example.com").count(), 1, "one registration");
    assert_eq!(claim_of(&pair, ORG, "LOST-1").await, (SerialStatus::Registered, created.id.clone()));
    // LOST-2's caller was told UNAVAILABLE and cannot retry: recovery rolls it back, never
    // finishes it (it used to, so a registration the caller was told did not happen held it).
    wait_for_release(&pair, ORG, "LOST-2").await;
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert!(all.iter().all(|r| r.customer_email != "bob@example.com"), "{all:?}");
    assert_eq!(claim_of(&pair, ORG, "LOST-3").await.0, SerialStatus::Active);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_cancel_while_serial_svc_is_down_releases_the_serial_once_it_is_back(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["REL-1", "REL-2"]).await;
    let mut c = pair.registrations(ORG);
    let canceled = register(&mut c, "a@example.com", &["REL-1"]).await;
    let denied = register(&mut c, "b@example.com", &["REL-2"]).await;
    pair.stop_serial().await;

    let cancel = CancelRegistrationRequest { id: canceled.id.clone(), request_id: new_request_id() };
    let deny =
        DenyRegistrationRequest { id: denied.id.clone(), reason: "x".into(), request_id: new_request_id() };
    let cancel_answer = c.cancel_registration(cancel.clone()).await;
    let deny_answer = c.deny_registration(deny.clone()).await;
    for answer in [cancel_answer.as_ref().err(), deny_answer.as_ref().err()].into_iter().flatten() {
        // The change may be accepted with the release left to the worker, or refused as
        // UNAVAILABLE; nothing else.
        assert_dependency_unavailable(answer);
    }

    pair.start_serial().await;
    if cancel_answer.is_err() {
        eventually("the cancel retry", || {
            let (mut c, cancel) = (c.clone(), cancel.clone());
            async move { c.cancel_registration(cancel).await.ok() }
        })
        .await;
    }
    if deny_answer.is_err() {
        eventually("the deny retry", || {
            let (mut c, deny) = (c.clone(), deny.clone());
            async move { c.deny_registration(deny).await.ok() }
        })
        .await;
    }
    let get = |id: &str| GetRegistrationRequest { id: id.into() };
    assert_eq!(
        c.get_registration(get(&canceled.id)).await.unwrap().into_inner().status(),
        RegistrationStatus::Canceled
    );
    assert_eq!(
        c.get_registration(get(&denied.id)).await.unwrap().into_inner().status(),
        RegistrationStatus::Denied
    );
    wait_for_release(&pair, ORG, "REL-1").await;
    wait_for_release(&pair, ORG, "REL-2").await;
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_swap_whose_answers_are_lost_ends_consistent(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["SWL-OLD", "SWL-NEW", "SWD-OLD", "SWD-NEW"]).await;
    let mut c = pair.registrations(ORG);
    let lost = register(&mut c, "a@example.com", &["SWL-OLD"]).await;
    let down = register(&mut c, "b@example.com", &["SWD-OLD"]).await;

    pair.set_proxy(ProxyMode::SwallowResponses);
    let swap = SwapSerialRequest {
        serial_number: "SWL-OLD".into(),
        new_serial_number: "SWL-NEW".into(),
        request_id: new_request_id(),
    };
    let status = c.swap_serial(swap.clone()).await.expect_err("the answers never arrive");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    pair.set_proxy(ProxyMode::Pass);

    pair.stop_serial().await;
    let swap_down = SwapSerialRequest {
        serial_number: "SWD-OLD".into(),
        new_serial_number: "SWD-NEW".into(),
        request_id: new_request_id(),
    };
    assert_dependency_unavailable(&c.swap_serial(swap_down).await.expect_err("serial-svc is down"));
    let now = c.get_registration(GetRegistrationRequest { id: down.id.clone() }).await.unwrap().into_inner();
    assert_eq!(now.line_items[0].serial_number, "SWD-OLD", "a swap that could not claim changed nothing");
    pair.start_serial().await;

    assert_invariants(&pair, ORG).await;
    for (reg, old, new) in [(&lost, "SWL-OLD", "SWL-NEW"), (&down, "SWD-OLD", "SWD-NEW")] {
        let now =
            c.get_registration(GetRegistrationRequest { id: reg.id.clone() }).await.unwrap().into_inner();
        assert_eq!(now.line_items.len(), 1);
        let held = now.line_items[0].serial_number.clone();
        assert!(held == old || held == new, "{held}");
        let other = if held == old { new } else { old };
        wait_for_release(&pair, ORG, other).await;
    }
    // A retry of the lost swap with its request_id ends it the same way, whichever it was.
    let retried = eventually("the swap retry", || {
        let (mut c, swap) = (c.clone(), swap.clone());
        async move {
            match c.swap_serial(swap).await {
                Ok(r) => Some(Ok(r.into_inner())),
                Err(s) if s.code() == Code::Unavailable || s.code() == Code::Aborted => None,
                Err(s) => Some(Err(s)),
            }
        }
    })
    .await;
    let now = c.get_registration(GetRegistrationRequest { id: lost.id.clone() }).await.unwrap().into_inner();
    match retried {
        Ok(r) => assert_eq!(
            (r.line_items[0].serial_number.as_str(), now.line_items[0].serial_number.as_str()),
            ("SWL-NEW", "SWL-NEW")
        ),
        Err(s) => panic!("a retry of a swap whose claim reached serial-svc failed: {s:?}"),
    }
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn after_an_unavailable_create_the_serial_is_released_and_a_new_request_id_registers_it(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["UNA-1", "UNA-2"]).await;
    let mut c = pair.registrations(ORG);

    // serial-svc down: nothing was claimed, and once it is back nothing of the attempt
    // finishes behind the caller's back, so a new request_id registers the serial.
    pair.stop_serial().await;
    let down = create_request(registration("ada@example.com", &["UNA-1"]), Some(&new_request_id()));
    assert_dependency_unavailable(
        &c.create_registration(down.clone()).await.expect_err("serial-svc is down"),
    );
    pair.start_serial().await;
    let anew = create_request(registration("ada@example.com", &["UNA-1"]), Some(&new_request_id()));
    let registered = retry_create(&mut c, &anew).await.expect("a new request_id registers the serial");
    assert_eq!(claim_of(&pair, ORG, "UNA-1").await, (SerialStatus::Registered, registered.id.clone()));
    // The first request_id is an attempt of its own: retried, it starts again and is refused.
    let first = failure(&retry_create(&mut c, &down).await.expect_err("the serial is registered"));
    assert_eq!((first.code, first.reason.as_str()), (Code::FailedPrecondition, "SERIAL_ALREADY_REGISTERED"));

    // The claim reached serial-svc but the answer did not: recovery releases it.
    let lost = create_request(registration("bob@example.com", &["UNA-2"]), Some(&new_request_id()));
    create_with_answers_lost(&pair, &mut c, &lost).await;
    wait_for_release(&pair, ORG, "UNA-2").await;
    let anew = create_request(registration("cy@example.com", &["UNA-2"]), Some(&new_request_id()));
    let registered =
        c.create_registration(anew).await.expect("the released serial registers anew").into_inner();
    assert_eq!(claim_of(&pair, ORG, "UNA-2").await, (SerialStatus::Registered, registered.id.clone()));
    let emails: Vec<_> = list_all(&mut c, ListRegistrationsRequest::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.customer_email)
        .collect();
    assert_eq!(emails, ["cy@example.com", "ada@example.com"], "nothing of the attempts left open shows");
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_retry_with_the_same_request_id_after_the_rollback_creates_the_registration(db: TestDb) {
    let pair = Pair::with_serials(db, &["AGAIN-1", "AGAIN-2"]).await;
    let mut c = pair.registrations(ORG);
    let request =
        create_request(registration("ada@example.com", &["AGAIN-1", "AGAIN-2"]), Some(&new_request_id()));
    create_with_answers_lost(&pair, &mut c, &request).await;
    for serial in ["AGAIN-1", "AGAIN-2"] {
        wait_for_release(&pair, ORG, serial).await;
    }
    assert!(list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().is_empty());

    let created = retry_create(&mut c, &request).await.expect("the retry starts the attempt again");
    assert_eq!(created.status(), RegistrationStatus::Pending);
    for serial in ["AGAIN-1", "AGAIN-2"] {
        assert_eq!(claim_of(&pair, ORG, serial).await, (SerialStatus::Registered, created.id.clone()));
    }
    let again = c.create_registration(request).await.expect("a replay").into_inner();
    assert_eq!(again.id, created.id, "one request_id, one registration");
    assert_eq!(list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().len(), 1);
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
