//! Opaque page tokens: `base64url(version | query fingerprint | cursor JSON | HMAC)`.
//!
//! The fingerprint is the first 8 bytes of SHA-256 over the JSON of the query (its filters and
//! order), so a token only works with the query it was issued for. The HMAC-SHA256 tag, cut to
//! 16 bytes, covers everything before it, so a client can neither forge nor edit a cursor.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{HmacSha256, keyed_mac};
use crate::status::FieldViolation;

const VERSION: u8 = 1;
const FINGERPRINT_LEN: usize = 8;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + FINGERPRINT_LEN;

/// Why a page token was refused. Each maps to an INVALID_ARGUMENT violation of `page_token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenError {
    #[error("malformed page token")]
    Malformed,
    #[error("page token signature mismatch")]
    Tampered,
    #[error("page token issued for another query")]
    OtherQuery,
}

impl PageTokenError {
    /// The violation to report on the request's `page_token` field.
    pub fn violation(&self) -> FieldViolation {
        let description = match self {
            PageTokenError::Malformed => "page token is malformed or was not issued by this service",
            PageTokenError::Tampered => "page token was modified or signed with another key",
            PageTokenError::OtherQuery => "page token was issued for a different query (filters or order)",
        };
        FieldViolation::new("page_token", description)
    }
}

/// Issues and checks page tokens with one HMAC key. Cheap to clone.
#[derive(Clone)]
pub struct PageTokens {
    mac: Arc<HmacSha256>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageTokens").finish_non_exhaustive()
    }
}

impl PageTokens {
    /// Tokens signed with `key` (see [`super::derive_key`] to derive it from a service secret).
    pub fn new(key: &[u8]) -> Self {
        Self { mac: Arc::new(keyed_mac(key)) }
    }

    /// A token for the page after `cursor`, valid only with `query`.
    pub fn encode<Q: Serialize, C: Serialize>(&self, query: &Q, cursor: &C) -> String {
        let mut bytes = Vec::with_capacity(64);
        bytes.push(VERSION);
        bytes.extend_from_slice(&fingerprint(query));
        if let Err(err) = serde_json::to_writer(&mut bytes, cursor) {
            // Only a broken `Serialize` impl gets here; the token then fails to decode.
            tracing::error!(error = %err, "cannot serialize a page cursor");
        }
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor in `token`, if this service signed it for this same `query`.
    pub fn decode<Q: Serialize, C: DeserializeOwned>(
        &self,
        token: &str,
        query: &Q,
    ) -> Result<C, PageTokenError> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| PageTokenError::Malformed)?;
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(PageTokenError::Malformed);
        }
        let (signed, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut mac = HmacSha256::clone(&self.mac);
        mac.update(signed);
        mac.verify_truncated_left(tag).map_err(|_| PageTokenError::Tampered)?;
        if signed[0] != VERSION {
            return Err(PageTokenError::Malformed);
        }
        if signed[1..HEADER_LEN] != fingerprint(query) {
            return Err(PageTokenError::OtherQuery);
        }
        serde_json::from_slice(&signed[HEADER_LEN..]).map_err(|_| PageTokenError::Malformed)
    }

    fn tag(&self, bytes: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::clone(&self.mac);
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }
}

fn fingerprint<Q: Serialize>(query: &Q) -> [u8; FINGERPRINT_LEN] {
    let mut hasher = HashWriter(Sha256::new());
    if let Err(err) = serde_json::to_writer(&mut hasher, query) {
        tracing::error!(error = %err, "cannot serialize a page token query");
    }
    let digest = hasher.0.finalize();
    let mut out = [0; FINGERPRINT_LEN];
    out.copy_from_slice(&digest[..FINGERPRINT_LEN]);
    out
}

/// Feeds serialized bytes straight into a hash.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Serialize)]
    struct Query<'a> {
        status: Option<&'a str>,
        order: &'a str,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cursor {
        time: i64,
        id: String,
    }

    const ACTIVE: Query<'static> = Query { status: Some("ACTIVE"), order: "create_time desc" };

    fn cursor() -> Cursor {
        Cursor { time: 1_700_000_000, id: "0191-abc".into() }
    }

    #[test]
    fn a_token_gives_back_its_cursor_for_the_same_query() {
        let tokens = PageTokens::new(b"key");
        let token = tokens.encode(&ACTIVE, &cursor());
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert_eq!(tokens.decode::<_, Cursor>(&token, &ACTIVE), Ok(cursor()));
    }

    #[test]
    fn a_token_used_with_other_filters_or_order_is_refused() {
        let tokens = PageTokens::new(b"key");
        let token = tokens.encode(&ACTIVE, &cursor());
        let revoked = Query { status: Some("REVOKED"), ..ACTIVE };
        let ascending = Query { order: "create_time asc", ..ACTIVE };
        assert_eq!(tokens.decode::<_, Cursor>(&token, &revoked), Err(PageTokenError::OtherQuery));
        assert_eq!(tokens.decode::<_, Cursor>(&token, &ascending), Err(PageTokenError::OtherQuery));
    }

    #[test]
    fn an_edited_token_or_another_key_is_detected() {
        let tokens = PageTokens::new(b"key");
        let token = tokens.encode(&ACTIVE, &cursor());
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[HEADER_LEN + 2] ^= 1;
        let edited = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(tokens.decode::<_, Cursor>(&edited, &ACTIVE), Err(PageTokenError::Tampered));
        let other = PageTokens::new(b"other key");
        assert_eq!(other.decode::<_, Cursor>(&token, &ACTIVE), Err(PageTokenError::Tampered));
    }

    #[test]
    fn garbage_is_malformed() {
        let tokens = PageTokens::new(b"key");
        for token in ["", "not base64!", "AAAA", &URL_SAFE_NO_PAD.encode([0u8; 40])] {
            let err = tokens.decode::<_, Cursor>(token, &ACTIVE).unwrap_err();
            assert!(matches!(err, PageTokenError::Malformed | PageTokenError::Tampered), "{token}: {err:?}");
        }
        assert_eq!(tokens.decode::<_, Cursor>("", &ACTIVE), Err(PageTokenError::Malformed));
    }

    #[test]
    fn a_signed_cursor_of_another_shape_is_malformed() {
        let tokens = PageTokens::new(b"key");
        let token = tokens.encode(&ACTIVE, &"just a string");
        assert_eq!(tokens.decode::<_, Cursor>(&token, &ACTIVE), Err(PageTokenError::Malformed));
    }

    #[test]
    fn each_error_is_a_violation_of_page_token() {
        let violation = PageTokenError::OtherQuery.violation();
        assert_eq!(violation.field, "page_token");
        assert_eq!(violation.description, "page token was issued for a different query (filters or order)");
        assert_eq!(PageTokenError::Tampered.to_string(), "page token signature mismatch");
    }
}
