use regserial::serial::v1 as pb;
use regserial::serial::v1::serial_service_server::SerialService;

use crate::support::*;

fn list(page_size: i32, page_token: &str) -> pb::ListSerialsRequest {
    pb::ListSerialsRequest { page_size, page_token: page_token.into(), ..Default::default() }
}

#[tokio::test]
async fn pages_follow_each_other_until_the_last_has_no_token() {
    let h = harness().await;
    seed(&h.api, &["SN-1", "SN-2", "SN-3", "SN-4", "SN-5"]).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = h.api.list_serials(reader(list(2, &token))).await.unwrap().into_inner();
        assert!(page.serials.len() <= 2);
        seen.extend(page.serials.into_iter().map(|s| s.serial_number));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["SN-1", "SN-2", "SN-3", "SN-4", "SN-5"]);
}

#[tokio::test]
async fn a_negative_page_size_is_an_invalid_page_size() {
    let h = harness().await;
    let status = h.api.list_serials(reader(list(-1, ""))).await.unwrap_err();
    assert_invalid_field(&status, "page_size");
    let events =
        pb::ListSerialEventsRequest { serial_number: "SN-1".into(), page_size: -5, ..Default::default() };
    assert_invalid_field(&h.api.list_serial_events(reader(events)).await.unwrap_err(), "page_size");
}

#[tokio::test]
async fn a_tampered_page_token_is_refused() {
    let h = harness().await;
    seed(&h.api, &["SN-1", "SN-2", "SN-3"]).await;
    let token = h.api.list_serials(reader(list(1, ""))).await.unwrap().into_inner().next_page_token;
    let mut bytes = token.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let status = h.api.list_serials(reader(list(1, &tampered))).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
    let status = h.api.list_serials(reader(list(1, "not a token"))).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
}

#[tokio::test]
async fn a_page_token_used_with_another_filter_is_refused() {
    let h = harness().await;
    seed(&h.api, &["SN-1", "SN-2", "SN-3"]).await;
    let token = h.api.list_serials(reader(list(1, ""))).await.unwrap().into_inner().next_page_token;
    let filtered = pb::ListSerialsRequest {
        page_size: 1,
        page_token: token.clone(),
        status: pb::SerialStatus::Active as i32,
        ..Default::default()
    };
    let status = h.api.list_serials(reader(filtered)).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
    let events =
        pb::ListSerialEventsRequest { serial_number: "SN-1".into(), page_token: token, ..Default::default() };
    let status = h.api.list_serial_events(reader(events)).await.unwrap_err();
    assert_invalid_field(&status, "page_token");
}

#[tokio::test]
async fn an_unknown_status_filter_is_an_invalid_status() {
    let h = harness().await;
    let request = pb::ListSerialsRequest { status: 42, ..Default::default() };
    assert_invalid_field(&h.api.list_serials(reader(request)).await.unwrap_err(), "status");
}
