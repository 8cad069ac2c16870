//! This service's idempotent requests and the method names they are keyed under; parsing the
//! `request_id` and hashing the request are [`shared::request_id`]'s, the same for both services.

use regserial::serial::v1 as pb;

shared::idempotent_requests!(
    pb::BatchCreateSerialsRequest => "/regserial.serial.v1.SerialService/BatchCreateSerials",
    pb::ClaimSerialRequest => "/regserial.serial.v1.SerialService/ClaimSerial",
    pb::ReleaseSerialRequest => "/regserial.serial.v1.SerialService/ReleaseSerial",
    pb::AllocateSerialRequest => "/regserial.serial.v1.SerialService/AllocateSerial",
    pb::RevokeSerialRequest => "/regserial.serial.v1.SerialService/RevokeSerial",
    pb::CreateProductRequest => "/regserial.serial.v1.CatalogService/CreateProduct",
    pb::CreateWarrantyPlanRequest => "/regserial.serial.v1.CatalogService/CreateWarrantyPlan",
);

#[cfg(test)]
mod tests {
    use super::*;
    use shared::request_id::InvalidRequestId;
    use uuid::Uuid;

    fn fingerprint<M: Idempotent>(request: &M) -> [u8; 32] {
        shared::request_id::fingerprint(M::METHOD, &request.encode_without_request_id())
    }

    fn claim(request_id: &str, claimant: &str) -> pb::ClaimSerialRequest {
        pb::ClaimSerialRequest {
            serial_number: "SN-1".into(),
            claimant: claimant.into(),
            request_id: request_id.into(),
        }
    }

    #[test]
    fn the_fingerprint_ignores_the_request_id_but_not_the_body() {
        let id = Uuid::now_v7().to_string();
        assert_eq!(fingerprint(&claim(&id, "r1")), fingerprint(&claim("", "r1")));
        assert_ne!(fingerprint(&claim(&id, "r1")), fingerprint(&claim(&id, "r2")));
    }

    #[test]
    fn the_fingerprint_differs_between_methods_with_equal_bytes() {
        let revoke = pb::RevokeSerialRequest {
            serial_number: "SN-1".into(),
            reason: "r1".into(),
            request_id: String::new(),
        };
        assert_ne!(fingerprint(&claim("", "r1")), fingerprint(&revoke));
    }

    #[test]
    fn an_empty_request_id_means_no_key_and_a_malformed_one_is_refused() {
        assert_eq!(request_key(&claim("", "r1")), Ok(None));
        assert_eq!(request_key(&claim("not-a-uuid", "r1")), Err(InvalidRequestId));
        let id = Uuid::now_v7();
        let key = request_key(&claim(&id.to_string(), "r1")).unwrap().unwrap();
        assert_eq!(key.request_id, id);
    }
}
