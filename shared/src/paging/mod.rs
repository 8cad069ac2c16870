//! List paging (AIP-158): page sizes, and opaque page tokens that are signed and bound to the
//! query they were issued for.

mod tokens;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::status::FieldViolation;

pub use tokens::{PageTokenError, PageTokens};

/// The page size to use for a request's `page_size`: 0 means `default`, anything above `max` is
/// lowered to `max` (AIP-158), a negative value is invalid.
pub fn page_size(requested: i32, default: u32, max: u32) -> Result<u32, FieldViolation> {
    match u32::try_from(requested) {
        Err(_) => Err(FieldViolation::new("page_size", "must not be negative")),
        Ok(0) => Ok(default.min(max)),
        Ok(size) => Ok(size.min(max)),
    }
}

/// A key for one `purpose` (such as `"page-tokens"`) derived from a configured secret, so one
/// secret can key several things without a token of one kind passing for another:
/// HMAC-SHA256(secret, purpose).
pub fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = keyed_mac(secret);
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with `key`, of any length. This is the key preparation of RFC 2104 (a key
/// longer than the 64-byte block is hashed first, a shorter one padded with zeros), done here so
/// that keying cannot fail.
fn keyed_mac(key: &[u8]) -> HmacSha256 {
    use hmac::digest::KeyInit;
    use sha2::Digest;

    let mut block = [0u8; 64];
    if key.len() > block.len() {
        let digest = Sha256::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let block: hmac::digest::Key<HmacSha256> = block.into();
    <HmacSha256 as KeyInit>::new(&block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_the_default_and_large_sizes_are_capped() {
        assert_eq!(page_size(0, 50, 1000), Ok(50));
        assert_eq!(page_size(7, 50, 1000), Ok(7));
        assert_eq!(page_size(1000, 50, 1000), Ok(1000));
        assert_eq!(page_size(5000, 50, 1000), Ok(1000));
        assert_eq!(page_size(i32::MAX, 50, 1000), Ok(1000));
        assert_eq!(page_size(0, 2000, 1000), Ok(1000));
    }

    #[test]
    fn a_negative_page_size_is_a_violation_of_page_size() {
        let violation = page_size(-1, 50, 1000).unwrap_err();
        assert_eq!(violation, FieldViolation::new("page_size", "must not be negative"));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn keying_matches_rfc_4231_for_short_and_long_keys() {
        // RFC 4231 test case 2 (short key) and test case 6 (131-byte key).
        assert_eq!(
            hex(&derive_key(b"Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&derive_key(&[0xaa; 131], "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        assert_ne!(derive_key(b"secret", "page-tokens"), derive_key(b"secret", "request-ids"));
        assert_eq!(derive_key(b"secret", "page-tokens").len(), 32);
    }
}
