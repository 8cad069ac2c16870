use registration_svc::domain::{Ctx, SerialNumber};
use regserial::registration::v1 as pb;
use regserial::registration::v1::registration_service_server::RegistrationService;
use tonic::Code;

use crate::support::*;

fn swap(old: &str, new: &str) -> pb::SwapSerialRequest {
    pb::SwapSerialRequest {
        serial_number: old.into(),
        new_serial_number: new.into(),
        request_id: String::new(),
    }
}

fn reset(serial: &str) -> pb::ResetSerialRequest {
    pb::ResetSerialRequest { serial_number: serial.into(), request_id: String::new() }
}

pub async fn swap_and_reset_name_their_bad_serial_numbers(h: Harness) {
    let status = h.api.swap_serial(writer(swap("a b", ""))).await.unwrap_err();
    assert_eq!(bad_fields(&status, "INVALID_FIELD"), ["serial_number", "new_serial_number"]);
    let status = h.api.swap_serial(writer(swap("SN-1", &"x".repeat(65)))).await.unwrap_err();
    assert_invalid_field(&status, "new_serial_number");
    assert_invalid_field(&h.api.reset_serial(writer(reset(" "))).await.unwrap_err(), "serial_number");
}

pub async fn swap_refusals_before_serial_svc_is_called(h: Harness) {
    register(&h.store, at(1), &["SN-1"]).await;
    register(&h.store, at(2), &["SN-2"]).await;
    let status = h.api.swap_serial(writer(swap("SN-1", "sn-1"))).await.unwrap_err();
    assert_invalid_field(&status, "new_serial_number");
    let status = h.api.swap_serial(writer(swap("SN-9", "SN-10"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    assert_eq!(metadata(&status, "serial_number"), "SN-9");
    let status = h.api.swap_serial(writer(swap("SN-1", "SN-2"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::FailedPrecondition), "SERIAL_ALREADY_REGISTERED");
    assert_eq!(metadata(&status, "serial_number"), "SN-2");
    let status = h.api.swap_serial(other_org(swap("SN-1", "SN-3"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
}

pub async fn a_second_swap_while_one_is_in_flight_is_aborted(h: Harness) {
    register(&h.store, at(1), &["SN-1", "SN-2"]).await;
    let ctx = Ctx { org: ORG, actor: "alice", now: at(2) };
    let (old, new) = (SerialNumber::parse("SN-1").unwrap(), SerialNumber::parse("SN-NEW").unwrap());
    h.store.begin_swap(&ctx, None, &old, &new).await.expect("a swap in flight");
    let status = h.api.swap_serial(writer(swap("SN-2", "SN-OTHER"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::Aborted), "SWAP_IN_FLIGHT");
    assert_eq!(metadata(&status, "serial_number"), "SN-2");
}

pub async fn reset_erases_the_customer_and_stops_holding_the_serial(h: Harness) {
    let stored = register(&h.store, at(1), &["SN-1", "SN-2"]).await;
    let done = h.api.reset_serial(writer(reset("sn-2"))).await;
    let done = done.expect("reset even though serial-svc is down: the release waits").into_inner();
    assert_eq!((done.id.as_str(), done.status()), (stored.id.as_str(), pb::RegistrationStatus::Canceled));
    assert_eq!((done.customer_email.as_str(), done.customer_name.as_str()), ("", ""));
    assert!(done.cancel_time.is_some());
    let status = h.api.reset_serial(writer(reset("SN-2"))).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND");
    assert_eq!(metadata(&status, "serial_number"), "SN-2");
    let lookup = pb::LookupRegistrationRequest {
        key: Some(pb::lookup_registration_request::Key::SerialNumber("SN-1".into())),
    };
    let status = h.api.lookup_registration(reader(lookup)).await.unwrap_err();
    assert_eq!(reason(&status, Code::NotFound), "REGISTRATION_NOT_FOUND", "every serial was let go");
}
