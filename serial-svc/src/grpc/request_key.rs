//! A mutation's `request_id` and the fingerprint of the request it came with: the store replays
//! the first answer for the same key and refuses the same id with another fingerprint.

use prost::Message;
use regserial::serial::v1 as pb;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::RequestKey;

/// A mutation request that carries an optional `request_id`.
pub trait Idempotent: Message + Clone {
    /// The full gRPC method name, e.g. `/regserial.serial.v1.SerialService/ClaimSerial`.
    const METHOD: &'static str;

    fn request_id(&self) -> &str;

    fn clear_request_id(&mut self);
}

macro_rules! idempotent {
    ($($request:ident => $method:literal),* $(,)?) => {$(
        impl Idempotent for pb::$request {
            const METHOD: &'static str = $method;

            fn request_id(&self) -> &str {
                &self.request_id
            }

            fn clear_request_id(&mut self) {
                self.request_id.clear();
            }
        }
    )*};
}

idempotent!(
    BatchCreateSerialsRequest => "/regserial.serial.v1.SerialService/BatchCreateSerials",
    ClaimSerialRequest => "/regserial.serial.v1.SerialService/ClaimSerial",
    ReleaseSerialRequest => "/regserial.serial.v1.SerialService/ReleaseSerial",
    AllocateSerialRequest => "/regserial.serial.v1.SerialService/AllocateSerial",
    RevokeSerialRequest => "/regserial.serial.v1.SerialService/RevokeSerial",
    CreateProductRequest => "/regserial.serial.v1.CatalogService/CreateProduct",
    CreateWarrantyPlanRequest => "/regserial.serial.v1.CatalogService/CreateWarrantyPlan",
);

/// A `request_id` that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID such as 0190c2a4-5b3e-7d1a-9f00-1234567890ab")]
pub struct InvalidRequestId;

/// The request's key: `None` without a `request_id`, an error when it is not a UUID.
pub fn request_key<M: Idempotent>(request: &M) -> Result<Option<RequestKey>, InvalidRequestId> {
    let raw = request.request_id().trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let request_id = Uuid::parse_str(raw).map_err(|_| InvalidRequestId)?;
    Ok(Some(RequestKey { request_id, fingerprint: fingerprint(request) }))
}

/// SHA-256 of the method name, a 0 byte, and the encoded request without its `request_id`.
pub fn fingerprint<M: Idempotent>(request: &M) -> [u8; 32] {
    let mut body = request.clone();
    body.clear_request_id();
    let mut hasher = Sha256::new();
    hasher.update(M::METHOD.as_bytes());
    hasher.update([0u8]);
    hasher.update(body.encode_to_vec());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
