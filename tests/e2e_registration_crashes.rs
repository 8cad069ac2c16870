//! registration-svc stopped or crashed with a saga step left in between (a claim or release
//! committed in serial-svc but not yet recorded, or not yet made), then started again on the
//! same database: recovery rolls a creation left open back (a retry with its request_id starts
//! it again), finishes releases and swaps, and the invariants hold; on SQLite and on PostgreSQL.

mod support;

use std::future::Future;
use std::time::Duration;

use regserial::registration::v1::*;
use regserial::serial::v1::SerialStatus;
use shared::testing::{ProxyMode, TestDb};
use support::ORG;
use support::registration::*;
use tonic::Code;

shared::per_backend!(
    a_restart_while_serial_svc_is_down_is_recovered_after_both_are_back,
    a_crash_between_the_attempt_and_its_completion_is_rolled_back,
    a_crash_in_the_middle_of_a_swap_is_recovered,
    a_crash_after_serial_svc_committed_a_release_is_recovered,
);

async fn retry_create(c: &mut Registrations, request: &CreateRegistrationRequest) -> Registration {
    eventually("the create retry to succeed", || {
        let (mut c, request) = (c.clone(), request.clone());
        async move {
            match c.create_registration(request).await {
                Ok(r) => Some(r.into_inner()),
                Err(s) if s.code() == Code::Unavailable => None,
                Err(s) => panic!("a retry of an attempt serial-svc accepted failed: {s:?}"),
            }
        }
    })
    .await
}

/// Starts `call` with serial-svc's answers swallowed, waits until serial-svc shows `committed`
/// for each of `serials` (so the step reached it), then crashes registration-svc while it waits
/// for the answer, and starts it again with the answers flowing.
async fn crash_after_serial_svc_commits<T, Fut>(
    pair: &mut Pair,
    call: Fut,
    serials: &[&str],
    committed: impl Fn(SerialStatus) -> bool,
) where
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>> + Send + 'static,
    T: Send + 'static,
{
    pair.set_proxy(ProxyMode::SwallowResponses);
    let call = tokio::spawn(call);
    for serial in serials {
        eventually("serial-svc to commit the step", || async {
            committed(claim_of(pair, ORG, serial).await.0).then_some(())
        })
        .await;
    }
    pair.crash_registration();
    let answer =
        tokio::time::timeout(Duration::from_secs(15), call).await.expect("the call ends").expect("task");
    assert!(answer.is_err(), "the crashed service cannot have answered success");
    pair.set_proxy(ProxyMode::Pass);
    pair.start_registration().await;
}

async fn a_restart_while_serial_svc_is_down_is_recovered_after_both_are_back(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["RS-1", "RS-2", "RS-3"]).await;
    let mut c = pair.registrations(ORG);
    let held = register(&mut c, "held@example.com", &["RS-3"]).await;
    pair.stop_serial().await;
    let request = create_request(registration("ada@example.com", &["RS-1", "RS-2"]), Some(&new_request_id()));
    let status = c.create_registration(request.clone()).await.expect_err("serial-svc is down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let cancel = CancelRegistrationRequest { id: held.id.clone(), request_id: new_request_id() };
    let canceled = c.cancel_registration(cancel.clone()).await;

    pair.stop_registration().await;
    pair.start_serial().await;
    pair.start_registration().await;

    assert_invariants(&pair, ORG).await;
    let created = retry_create(&mut c, &request).await;
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(all.iter().filter(|r| r.customer_email == "ada@example.com").count(), 1, "one registration");
    for number in ["RS-1", "RS-2"] {
        assert_eq!(claim_of(&pair, ORG, number).await, (SerialStatus::Registered, created.id.clone()));
    }
    if canceled.is_err() {
        c.cancel_registration(cancel).await.expect("the cancel retried once serial-svc is back");
    }
    wait_for_release(&pair, ORG, "RS-3").await;
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_crash_between_the_attempt_and_its_completion_is_rolled_back(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["CR-1", "CR-2"]).await;
    let mut c = pair.registrations(ORG);
    let request = create_request(registration("ada@example.com", &["CR-1", "CR-2"]), Some(&new_request_id()));
    let call = {
        let (mut c, request) = (c.clone(), request.clone());
        async move { c.create_registration(request).await }
    };
    // The attempt is written and both claims are done: the process dies before the completion.
    crash_after_serial_svc_commits(&mut pair, call, &["CR-1", "CR-2"], |s| s == SerialStatus::Registered)
        .await;

    // The caller never heard back: the attempt is rolled back, its claims released.
    for number in ["CR-1", "CR-2"] {
        wait_for_release(&pair, ORG, number).await;
    }
    assert!(list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap().is_empty());
    assert_invariants(&pair, ORG).await;
    // A retry with its request_id starts it again.
    let created = retry_create(&mut c, &request).await;
    let all = list_all(&mut c, ListRegistrationsRequest::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()],
        "one registration"
    );
    for number in ["CR-1", "CR-2"] {
        assert_eq!(claim_of(&pair, ORG, number).await, (SerialStatus::Registered, created.id.clone()));
    }
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_crash_in_the_middle_of_a_swap_is_recovered(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["CS-OLD", "CS-NEW"]).await;
    let mut c = pair.registrations(ORG);
    let reg = register(&mut c, "ada@example.com", &["CS-OLD"]).await;
    let swap = SwapSerialRequest {
        serial_number: "CS-OLD".into(),
        new_serial_number: "CS-NEW".into(),
        request_id: new_request_id(),
    };
    let call = {
        let (mut c, swap) = (c.clone(), swap.clone());
        async move { c.swap_serial(swap).await }
    };
    crash_after_serial_svc_commits(&mut pair, call, &["CS-NEW"], |s| s == SerialStatus::Registered).await;

    assert_invariants(&pair, ORG).await;
    let now = c.get_registration(GetRegistrationRequest { id: reg.id.clone() }).await.unwrap().into_inner();
    let held = now.line_items[0].serial_number.as_str();
    assert!(held == "CS-OLD" || held == "CS-NEW", "{held}");
    let other = if held == "CS-OLD" { "CS-NEW" } else { "CS-OLD" };
    wait_for_release(&pair, ORG, other).await;
    assert_eq!(claim_of(&pair, ORG, held).await, (SerialStatus::Registered, reg.id.clone()));
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}

async fn a_crash_after_serial_svc_committed_a_release_is_recovered(db: TestDb) {
    let mut pair = Pair::start(db).await;
    seed_catalog(&pair, ORG).await;
    add_serials(&pair, ORG, &["CRL-1", "CRL-2", "CRL-3"]).await;
    let mut c = pair.registrations(ORG);
    let reg = register(&mut c, "ada@example.com", &["CRL-1", "CRL-2"]).await;
    let unreleased = register(&mut c, "bob@example.com", &["CRL-3"]).await;
    let cancel = CancelRegistrationRequest { id: reg.id.clone(), request_id: new_request_id() };
    let call = {
        let (mut c, cancel) = (c.clone(), cancel.clone());
        async move { c.cancel_registration(cancel).await }
    };
    pair.set_proxy(ProxyMode::SwallowResponses);
    let call = tokio::spawn(call);
    let committed = eventually("serial-svc to release a serial", || async {
        for number in ["CRL-1", "CRL-2"] {
            if claim_of(&pair, ORG, number).await.0 == SerialStatus::Active {
                return Some(());
            }
        }
        None
    });
    committed.await;
    pair.crash_registration();
    let _ = tokio::time::timeout(Duration::from_secs(15), call).await.expect("the call ends");
    pair.set_proxy(ProxyMode::Pass);
    pair.start_registration().await;

    let status =
        c.get_registration(GetRegistrationRequest { id: reg.id.clone() }).await.unwrap().into_inner();
    assert_eq!(status.status(), RegistrationStatus::Canceled, "the cancel was committed before its releases");
    wait_for_release(&pair, ORG, "CRL-1").await;
    wait_for_release(&pair, ORG, "CRL-2").await;
    assert_invariants(&pair, ORG).await;
    let again = c.cancel_registration(cancel).await.expect("a retry of the committed cancel answers it");
    assert_eq!(again.into_inner().status(), RegistrationStatus::Canceled, "a replay answers the first");

    // A crash after the cancel committed but before its release reached serial-svc.
    pair.set_proxy(ProxyMode::Refuse);
    let call = {
        let mut c = c.clone();
        let cancel = CancelRegistrationRequest { id: unreleased.id.clone(), request_id: new_request_id() };
        tokio::spawn(async move { c.cancel_registration(cancel).await })
    };
    eventually("the cancel to commit", || {
        let (mut c, id) = (c.clone(), unreleased.id.clone());
        async move {
            let now = c.get_registration(GetRegistrationRequest { id }).await.ok()?.into_inner();
            (now.status() == RegistrationStatus::Canceled).then_some(())
        }
    })
    .await;
    pair.crash_registration();
    let _ = tokio::time::timeout(Duration::from_secs(15), call).await.expect("the call ends");
    assert_eq!(claim_of(&pair, ORG, "CRL-3").await.0, SerialStatus::Registered, "serial-svc was unreachable");
    pair.set_proxy(ProxyMode::Pass);
    pair.start_registration().await;
    wait_for_release(&pair, ORG, "CRL-3").await;
    assert_invariants(&pair, ORG).await;
    pair.stop().await;
}
