//! A mutation's `request_id` and the fingerprint of the request it came with: the store replays
//! the first answer for the same key ([`crate::db::request_keys`]) and refuses the same id with
//! another fingerprint. Each service lists its idempotent messages and their method names with
//! [`idempotent_requests!`](crate::idempotent_requests); the parsing and hashing are here.

#[doc(hidden)]
pub use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A mutation's `request_id` with a fingerprint of the method and request it came with, so a
/// retry replays the first answer and a different request with the same id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestKey {
    pub request_id: Uuid,
    pub fingerprint: [u8; 32],
}

/// A `request_id` that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID such as 0190c2a4-5b3e-7d1a-9f00-1234567890ab")]
pub struct InvalidRequestId;

/// The key of a request to `method` carrying `request_id`: `None` when it is empty, an error
/// when it is not a UUID. `body` encodes the request without its `request_id`; it is only
/// called when there is a key.
pub fn request_key(
    method: &str,
    request_id: &str,
    body: impl FnOnce() -> Vec<u8>,
) -> Result<Option<RequestKey>, InvalidRequestId> {
    let raw = request_id.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let request_id = Uuid::parse_str(raw).map_err(|_| InvalidRequestId)?;
    Ok(Some(RequestKey { request_id, fingerprint: fingerprint(method, &body()) }))
}

/// SHA-256 of the method name, a 0 byte, and the encoded request without its `request_id`
/// (maps encode in key order, so equal requests hash equally).
pub fn fingerprint(method: &str, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0u8]);
    hasher.update(body);
    hasher.finalize().into()
}

/// Declares, in the calling module, the service's table of idempotent requests: a trait
/// `Idempotent` (the method name a request is keyed under, and its `request_id` field)
/// implemented for each listed message, and `request_key(&request)`, its [`RequestKey`] by
/// [`request_key`]. The trait is declared by the service rather than here because the orphan
/// rule forbids implementing a trait of this crate for the contract's types elsewhere.
#[macro_export]
macro_rules! idempotent_requests {
    ($($request:ty => $method:literal),* $(,)?) => {
        /// A mutation request that carries an optional `request_id`.
        pub trait Idempotent: $crate::request_id::Message + Clone {
            /// The full gRPC method name the request is keyed under.
            const METHOD: &'static str;

            fn request_id(&self) -> &str;

            fn clear_request_id(&mut self);

            /// The encoded request without its `request_id`: what its fingerprint hashes.
            fn encode_without_request_id(&self) -> Vec<u8> {
                let mut body = self.clone();
                body.clear_request_id();
                $crate::request_id::Message::encode_to_vec(&body)
            }
        }

        $(
            impl Idempotent for $request {
                const METHOD: &'static str = $method;

                fn request_id(&self) -> &str {
                    &self.request_id
                }

                fn clear_request_id(&mut self) {
                    self.request_id.clear();
                }
            }
        )*

        /// The request's key: `None` without a `request_id`, an error when it is not a UUID.
        pub fn request_key<M: Idempotent>(
            request: &M,
        ) -> Result<Option<$crate::request_id::RequestKey>, $crate::request_id::InvalidRequestId> {
            $crate::request_id::request_key(M::METHOD, request.request_id(), || {
                request.encode_without_request_id()
            })
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_request_id_means_no_key_and_a_malformed_one_is_refused() {
        assert_eq!(request_key("/m", " ", || unreachable!()), Ok(None));
        assert_eq!(request_key("/m", "not-a-uuid", Vec::new), Err(InvalidRequestId));
        let id = Uuid::now_v7();
        let key = request_key("/m", &id.to_string(), || vec![1]).unwrap().unwrap();
        assert_eq!(key.request_id, id);
        assert_eq!(key.fingerprint, fingerprint("/m", &[1]));
    }

    #[test]
    fn the_fingerprint_differs_between_methods_with_equal_bytes() {
        assert_ne!(fingerprint("/a", &[1]), fingerprint("/b", &[1]));
    }
}
