use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::RegistrationService;

use crate::support::*;

fn list(page_size: i32, page_token: &str, order_by: &str) -> pb::ListRegistrationsRequest {
    pb::ListRegistrationsRequest {
        page_size,
        page_token: page_token.into(),
        order_by: order_by.into(),
        ..Default::default()
    }
}

/// The first serial of each registration on the page.
fn serials(page: &pb::ListRegistrationsResponse) -> Vec<String> {
    page.registrations.iter().map(|r| r.line_items[0].serial_number.clone()).collect()
}

/// Registers SN-1 … SN-`count`, oldest first.
async fn seed(h: &Harness, count: i64) {
    for i in 1..=count {
        register(&h.store, at(i), &[&format!("SN-{i}")]).await;
    }
}

async fn page(h: &Harness, request: pb::ListRegistrationsRequest) -> pb::ListRegistrationsResponse {
    h.api.list_registrations(reader(request)).await.unwrap().into_inner()
}

pub async fn pages_follow_each_other_both_ways_in_either_order(h: Harness) {
    seed(&h, 5).await;
    let first = page(&h, list(2, "", "")).await;
    assert_eq!(serials(&first), ["SN-5", "SN-4"], "newest first by default");
    assert!(first.previous_page_token.is_empty());
    let second = page(&h, list(2, &first.next_page_token, "")).await;
    assert_eq!(serials(&second), ["SN-3", "SN-2"]);
    let last = page(&h, list(2, &second.next_page_token, "create_time desc")).await;
    assert_eq!(serials(&last), ["SN-1"]);
    assert!(last.next_page_token.is_empty());
    let back = page(&h, list(2, &last.previous_page_token, "")).await;
    assert_eq!(serials(&back), ["SN-3", "SN-2"]);
    let front = page(&h, list(2, &back.previous_page_token, "")).await;
    assert_eq!(serials(&front), ["SN-5", "SN-4"]);
    assert!(front.previous_page_token.is_empty());

    let up = page(&h, list(3, "", "create_time asc")).await;
    assert_eq!(serials(&up), ["SN-1", "SN-2", "SN-3"]);
    let rest = page(&h, list(3, &up.next_page_token, "create_time asc")).await;
    assert_eq!(serials(&rest), ["SN-4", "SN-5"]);
    let everything = page(&h, list(0, "", "")).await;
    assert_eq!(everything.registrations.len(), 5, "0 means the default of 50");
    assert!(everything.next_page_token.is_empty() && everything.previous_page_token.is_empty());
}

pub async fn a_tampered_page_token_is_refused(h: Harness) {
    seed(&h, 3).await;
    let token = page(&h, list(1, "", "")).await.next_page_token;
    let mut bytes = token.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let status = h.api.list_registrations(reader(list(1, &tampered, ""))).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
    let status = h.api.list_registrations(reader(list(1, "not a token", ""))).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
}

pub async fn a_page_token_used_with_other_filters_order_or_org_is_refused(h: Harness) {
    seed(&h, 3).await;
    let token = page(&h, list(1, "", "")).await.next_page_token;
    let filtered = pb::ListRegistrationsRequest {
        status: pb::RegistrationStatus::Pending as i32,
        ..list(1, &token, "")
    };
    assert_invalid_field(&h.api.list_registrations(reader(filtered)).await.unwrap_err(), "page_token");
    let by_email =
        pb::ListRegistrationsRequest { customer_email: "ada@example.com".into(), ..list(1, &token, "") };
    assert_invalid_field(&h.api.list_registrations(reader(by_email)).await.unwrap_err(), "page_token");
    let ascending = list(1, &token, "create_time asc");
    assert_invalid_field(&h.api.list_registrations(reader(ascending)).await.unwrap_err(), "page_token");
    let status = h.api.list_registrations(other_org(list(1, &token, ""))).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
    let same_query_other_size = page(&h, list(5, &token, "create_time desc")).await;
    assert_eq!(serials(&same_query_other_size), ["SN-2", "SN-1"], "the page size may change");
}

pub async fn list_arguments_are_checked_and_large_pages_capped(h: Harness) {
    let status = h.api.list_registrations(reader(list(-1, "", ""))).await.unwrap_err();
    assert_invalid_field(&status, "page_size");
    let unknown = pb::ListRegistrationsRequest { status: 42, ..Default::default() };
    assert_invalid_field(&h.api.list_registrations(reader(unknown)).await.unwrap_err(), "status");
    let status = h.api.list_registrations(reader(list(1, "", "update_time desc"))).await.unwrap_err();
    assert_invalid_field(&status, "order_by");
    let bad = pb::ListRegistrationsRequest {
        customer_email: "nope".into(),
        form_slug: "a b".into(),
        status: 42,
        order_by: "sideways".into(),
        ..Default::default()
    };
    let status = h.api.list_registrations(reader(bad)).await.unwrap_err();
    assert_eq!(bad_fields(&status, "INVALID_FIELD"), ["customer_email", "form_slug", "status", "order_by"]);
    seed(&h, 2).await;
    assert_eq!(page(&h, list(5000, "", "")).await.registrations.len(), 2, "capped, not refused");
}

pub async fn filters_select_the_registrations_listed(h: Harness) {
    seed(&h, 3).await;
    let grace = registration_svc::domain::RegistrationDraft {
        customer_email: "Grace@Example.com".into(),
        channel_name: "store".into(),
        ..draft(&["SN-G"])
    };
    let stored = register_draft(&h.store, ORG, at(10), &grace, &Default::default()).await;
    let approve = pb::ApproveRegistrationRequest { id: stored.id.to_string(), request_id: String::new() };
    h.api.approve_registration(reviewer(approve)).await.unwrap();
    let by = |request: pb::ListRegistrationsRequest| {
        let api = &h.api;
        async move { serials(&api.list_registrations(reader(request)).await.unwrap().into_inner()) }
    };
    let approved = pb::ListRegistrationsRequest {
        status: pb::RegistrationStatus::Approved as i32,
        ..Default::default()
    };
    assert_eq!(by(approved).await, ["SN-G"]);
    let email =
        pb::ListRegistrationsRequest { customer_email: "grace@example.COM".into(), ..Default::default() };
    assert_eq!(by(email).await, ["SN-G"]);
    let channel = pb::ListRegistrationsRequest { channel_name: "store".into(), ..Default::default() };
    assert_eq!(by(channel).await, ["SN-G"]);
    let number =
        pb::ListRegistrationsRequest { registration_number: "acme-reg-00002".into(), ..Default::default() };
    assert_eq!(by(number).await, ["SN-2"]);
    let form = pb::ListRegistrationsRequest {
        form_slug: "product-registration".into(),
        ..list(0, "", "create_time asc")
    };
    assert_eq!(by(form).await, ["SN-1", "SN-2", "SN-3", "SN-G"]);
}
