//! This service's idempotent requests and the method names they are keyed under; parsing the
//! `request_id` and hashing the request are [`shared::request_id`]'s, the same for both services.

use regserial::registration::v1 as pb;

// A batch item is keyed as the `CreateRegistration` it stands for, so that retrying one item
// alone with its `request_id` replays the same attempt.
shared::idempotent_requests!(
    pb::CreateRegistrationRequest => "/regserial.registration.v1.RegistrationService/CreateRegistration",
    pb::UpdateRegistrationRequest => "/regserial.registration.v1.RegistrationService/UpdateRegistration",
    pb::ApproveRegistrationRequest => "/regserial.registration.v1.RegistrationService/ApproveRegistration",
    pb::DenyRegistrationRequest => "/regserial.registration.v1.RegistrationService/DenyRegistration",
    pb::CancelRegistrationRequest => "/regserial.registration.v1.RegistrationService/CancelRegistration",
    pb::SwapSerialRequest => "/regserial.registration.v1.RegistrationService/SwapSerial",
    pb::ResetSerialRequest => "/regserial.registration.v1.RegistrationService/ResetSerial",
);

#[cfg(test)]
mod tests {
    use super::*;
    use shared::request_id::InvalidRequestId;
    use uuid::Uuid;

    fn fingerprint<M: Idempotent>(request: &M) -> [u8; 32] {
        shared::request_id::fingerprint(M::METHOD, &request.encode_without_request_id())
    }

    fn approve(request_id: &str, id: &str) -> pb::ApproveRegistrationRequest {
        pb::ApproveRegistrationRequest { id: id.into(), request_id: request_id.into() }
    }

    #[test]
    fn the_fingerprint_ignores_the_request_id_but_not_the_body() {
        let id = Uuid::now_v7().to_string();
        assert_eq!(fingerprint(&approve(&id, "r1")), fingerprint(&approve("", "r1")));
        assert_ne!(fingerprint(&approve(&id, "r1")), fingerprint(&approve(&id, "r2")));
    }

    #[test]
    fn the_fingerprint_differs_between_methods_with_equal_bytes() {
        let cancel = pb::CancelRegistrationRequest { id: "r1".into(), request_id: String::new() };
        assert_ne!(fingerprint(&approve("", "r1")), fingerprint(&cancel));
    }

    #[test]
    fn an_empty_request_id_means_no_key_and_a_malformed_one_is_refused() {
        assert_eq!(request_key(&approve("", "r1")), Ok(None));
        assert_eq!(request_key(&approve("not-a-uuid", "r1")), Err(InvalidRequestId));
        let id = Uuid::now_v7();
        let key = request_key(&approve(&id.to_string(), "r1")).unwrap().unwrap();
        assert_eq!(key.request_id, id);
    }
}
