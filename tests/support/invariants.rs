//! The claim saga's invariants, checked from outside through both services' APIs, and bounded
//! polling helpers.

use std::collections::HashMap;
use std::time::Duration;

use regserial::registration::v1::{
    GetRegistrationRequest, ListRegistrationsRequest, Registration, RegistrationStatus,
};
use regserial::serial::v1::{ListSerialsRequest, Serial, SerialStatus};

use super::registration::{Registrations, Services};
use super::seed::claim_of;

/// Every registration `query` lists, following next_page_token.
pub async fn list_all(
    client: &mut Registrations,
    query: ListRegistrationsRequest,
) -> Result<Vec<Registration>, tonic::Status> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = ListRegistrationsRequest { page_size: 1000, page_token: token, ..query.clone() };
        let page = client.list_registrations(page).await?.into_inner();
        all.extend(page.registrations);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        token = page.next_page_token;
    }
}

/// Every serial of `org` in serial-svc.
pub async fn all_serials(pair: &impl Services, org: &str) -> Result<Vec<Serial>, tonic::Status> {
    let mut c = pair.serials(org);
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = ListSerialsRequest { page_size: 1000, page_token: token, ..Default::default() };
        let page = c.serials.list_serials(page).await?.into_inner();
        all.extend(page.serials);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        token = page.next_page_token;
    }
}

fn holds(status: RegistrationStatus) -> bool {
    matches!(status, RegistrationStatus::Pending | RegistrationStatus::Approved)
}

/// What breaks the saga's invariants in `org` now (empty: they hold):
/// a serial is REGISTERED with claimant X iff registration X exists, holds it in a line item,
/// and is PENDING or APPROVED; every serial of a PENDING/APPROVED registration is claimed by it.
pub async fn invariant_violations(pair: &impl Services, org: &str) -> Vec<String> {
    let mut client = pair.registrations(org);
    let serials = match all_serials(pair, org).await {
        Ok(serials) => serials,
        Err(status) => return vec![format!("ListSerials failed: {status:?}")],
    };
    let registrations = match list_all(&mut client, ListRegistrationsRequest::default()).await {
        Ok(all) => all,
        Err(status) => return vec![format!("ListRegistrations failed: {status:?}")],
    };
    let mut violations = Vec::new();
    let by_key: HashMap<String, &Serial> =
        serials.iter().map(|s| (s.serial_number.to_ascii_lowercase(), s)).collect();
    let mut holders: HashMap<String, Vec<String>> = HashMap::new();
    for reg in registrations.iter().filter(|r| holds(r.status())) {
        for item in reg.line_items.iter().filter(|i| !i.serial_number.is_empty()) {
            let key = item.serial_number.to_ascii_lowercase();
            holders.entry(key.clone()).or_default().push(reg.id.clone());
            match by_key.get(&key) {
                Some(s) if s.status() == SerialStatus::Registered && s.claimant == reg.id => {}
                Some(s) => violations.push(format!(
                    "{:?} registration {} holds {} but serial-svc has it {:?} by {:?}",
                    reg.status(),
                    reg.id,
                    item.serial_number,
                    s.status(),
                    s.claimant
                )),
                None => violations
                    .push(format!("registration {} holds unknown serial {}", reg.id, item.serial_number)),
            }
        }
    }
    for (key, ids) in &holders {
        if ids.len() > 1 {
            violations.push(format!("serial {key} is held by several live registrations: {ids:?}"));
        }
    }
    for s in serials.iter().filter(|s| s.status() == SerialStatus::Registered) {
        let get = GetRegistrationRequest { id: s.claimant.clone() };
        match client.get_registration(get).await {
            Err(status) => violations.push(format!(
                "serial {} is claimed by {:?}, which GetRegistration does not find: {:?} {}",
                s.serial_number,
                s.claimant,
                status.code(),
                status.message()
            )),
            Ok(reg) => {
                let reg = reg.into_inner();
                let held =
                    reg.line_items.iter().any(|i| i.serial_number.eq_ignore_ascii_case(&s.serial_number));
                if !held || !holds(reg.status()) {
                    violations.push(format!(
                        "serial {} is claimed by {} which is {:?} and holds {:?}",
                        s.serial_number,
                        reg.id,
                        reg.status(),
                        reg.line_items.iter().map(|i| i.serial_number.as_str()).collect::<Vec<_>>()
                    ));
                }
            }
        }
    }
    violations
}

/// Polls (bounded: 15 s, the recovery worker runs every 50 ms with a 1.5 s lease) until the
/// invariants hold in `org`; fails with what still breaks them.
pub async fn assert_invariants(pair: &impl Services, org: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let violations = invariant_violations(pair, org).await;
        if violations.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the saga's invariants do not hold in {org} after 15 s:\n{}",
            violations.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls (bounded: 15 s) until `check` returns Some.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after 15 s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until the serial's `(status, claimant)` in serial-svc is `want` (bounded: 15 s).
pub async fn wait_for_claim(pair: &impl Services, org: &str, number: &str, want: (SerialStatus, &str)) {
    let what = format!("serial {number} to be {want:?}");
    eventually(&what, || async {
        let (status, claimant) = claim_of(pair, org, number).await;
        (status == want.0 && claimant == want.1).then_some(())
    })
    .await
}

/// Polls until the serial is ACTIVE (released) in serial-svc (bounded: 15 s).
pub async fn wait_for_release(pair: &impl Services, org: &str, number: &str) {
    let what = format!("serial {number} to be released");
    eventually(&what, || async {
        (claim_of(pair, org, number).await.0 == SerialStatus::Active).then_some(())
    })
    .await
}
