//! A mutation's `request_id` and the fingerprint of the request it came with: the store replays
//! the first answer for the same key and refuses the same id with another fingerprint.

use prost::Message;
use regserial::registration::v1 as pb;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::RequestKey;

/// A mutation request that carries an optional `request_id`.
pub trait Idempotent: Message + Clone {
    /// The full gRPC method name, e.g.
    /// `/regserial.registration.v1.RegistrationService/ApproveRegistration`.
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

// A batch item is keyed as the `CreateRegistration` it stands for, so that retrying one item
// alone with its `request_id` replays the same attempt.
idempotent!(
    CreateRegistrationRequest => "/regserial.registration.v1.RegistrationService/CreateRegistration",
    UpdateRegistrationRequest => "/regserial.registration.v1.RegistrationService/UpdateRegistration",
    ApproveRegistrationRequest => "/regserial.registration.v1.RegistrationService/ApproveRegistration",
    DenyRegistrationRequest => "/regserial.registration.v1.RegistrationService/DenyRegistration",
    CancelRegistrationRequest => "/regserial.registration.v1.RegistrationService/CancelRegistration",
    SwapSerialRequest => "/regserial.registration.v1.RegistrationService/SwapSerial",
    ResetSerialRequest => "/regserial.registration.v1.RegistrationService/ResetSerial",
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

/// SHA-256 of the method name, a 0 byte, and the encoded request without its `request_id`
/// (maps encode in key order, so equal requests hash equally).
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
