//! JSON Web Key Sets (RFC 7517): the RSA (RS256) and Ed25519 (EdDSA) public keys that verify
//! tokens, each chosen by the `kid` in the token's header. Loading and refreshing a set from its
//! URL is [`super::jwks_source`]'s.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, bail};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet").field("kids", &self.kids()).field("keys", &self.len()).finish()
    }
}

/// A key that verifies tokens, and the one algorithm it verifies.
pub(crate) struct VerifyingKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Algorithm,
}

/// The usable keys of one JWK set.
#[derive(Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    /// Keys published without a `kid`: usable only by a token without one, when the set holds
    /// exactly one key.
    unnamed: Vec<Arc<VerifyingKey>>,
    /// The usable keys as published, sorted: two sets are the same when these are.
    published: Vec<String>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// The RSA and Ed25519 signing keys of the JWK set `json`. Keys of other types, curves or
    /// uses (encryption), and keys that do not parse, are skipped with a warning, so that an
    /// identity provider publishing one new kind of key does not stop every other one from
    /// working; a set with no usable key at all is an error. A `kid` published twice is an error.
    pub(crate) fn parse(json: &[u8]) -> anyhow::Result<KeySet> {
        let raw: RawSet =
            serde_json::from_slice(json).context("not a JWK set (a JSON object with a keys array)")?;
        let mut set = KeySet::default();
        for (index, value) in raw.keys.into_iter().enumerate() {
            let kid = value.get("kid").and_then(|kid| kid.as_str()).map(str::to_owned);
            let jwk = match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => jwk,
                Err(err) => {
                    tracing::warn!(index, kid, error = %err, "jwk skipped: it does not parse");
                    continue;
                }
            };
            let key = match verifying_key(&jwk) {
                Ok(key) => Arc::new(key),
                Err(why) => {
                    tracing::warn!(index, kid, reason = why, "jwk skipped");
                    continue;
                }
            };
            set.published.push(serde_json::to_string(&jwk).unwrap_or_default());
            match kid {
                Some(kid) => {
                    if set.by_kid.insert(kid.clone(), key).is_some() {
                        bail!("the JWK set holds two keys with kid {kid:?}");
                    }
                }
                None => set.unnamed.push(key),
            }
        }
        if set.len() == 0 {
            bail!("the JWK set holds no usable key (RSA for RS256 or OKP Ed25519 for EdDSA, use sig)");
        }
        set.published.sort_unstable();
        Ok(set)
    }

    /// The key for a token whose header says `kid`; a token without one may use the set's only
    /// key, if it has exactly one.
    pub(crate) fn get(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None if self.len() == 1 => self.by_kid.values().chain(&self.unnamed).next().cloned(),
            None => None,
        }
    }

    /// How many usable keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.by_kid.len() + self.unnamed.len()
    }

    /// The key ids, sorted (for logs).
    pub(crate) fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.by_kid.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }

    /// Whether `other` holds exactly the same keys.
    pub(crate) fn same_keys(&self, other: &KeySet) -> bool {
        self.published == other.published
    }
}

/// The verifying key of `jwk`, or why it cannot verify our tokens.
fn verifying_key(jwk: &Jwk) -> Result<VerifyingKey, &'static str> {
    if jwk.common.public_key_use.as_ref().is_some_and(|usage| *usage != PublicKeyUse::Signature) {
        return Err("not a signing key (use is not sig)");
    }
    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::RSA(_), Some(_)) => return Err("an RSA key for another algorithm than RS256"),
        (AlgorithmParameters::OctetKeyPair(params), None | Some(KeyAlgorithm::EdDSA))
            if params.curve == EllipticCurve::Ed25519 =>
        {
            Algorithm::EdDSA
        }
        (AlgorithmParameters::OctetKeyPair(_), _) => return Err("an OKP key that is not Ed25519 for EdDSA"),
        _ => return Err("neither an RSA nor an OKP Ed25519 key"),
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|_| "its key material is malformed")?;
    Ok(VerifyingKey { key, algorithm })
}

#[cfg(test)]
pub(crate) mod tests {
    use jsonwebtoken::EncodingKey;
    use serde_json::json;

    use super::*;

    /// The public JWK of a test key in `testdata`, with `kid` (if any) and extra members.
    pub(crate) fn jwk(
        algorithm: Algorithm,
        kid: Option<&str>,
        extra: serde_json::Value,
    ) -> serde_json::Value {
        let key = match algorithm {
            Algorithm::RS256 => {
                EncodingKey::from_rsa_pem(include_bytes!("testdata/rsa_private.pem")).unwrap()
            }
            _ => EncodingKey::from_ed_pem(include_bytes!("testdata/ed25519_private.pem")).unwrap(),
        };
        let mut value = serde_json::to_value(Jwk::from_encoding_key(&key, algorithm).unwrap()).unwrap();
        if let Some(kid) = kid {
            value["kid"] = json!(kid);
        }
        for (name, member) in extra.as_object().into_iter().flatten() {
            value[name] = member.clone();
        }
        value
    }

    fn rsa(kid: Option<&str>) -> serde_json::Value {
        jwk(Algorithm::RS256, kid, json!({"use": "sig"}))
    }

    fn ed(kid: &str) -> serde_json::Value {
        let mut key = jwk(Algorithm::EdDSA, Some(kid), json!({}));
        key.as_object_mut().unwrap().remove("alg");
        key
    }

    fn parse(keys: Vec<serde_json::Value>) -> anyhow::Result<KeySet> {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes())
    }

    #[test]
    fn rsa_and_ed25519_keys_are_chosen_by_kid_with_their_algorithm() {
        let set = parse(vec![rsa(Some("r1")), ed("e1")]).unwrap();
        assert_eq!(set.kids(), ["e1", "r1"]);
        assert_eq!(set.get(Some("r1")).unwrap().algorithm, Algorithm::RS256);
        assert_eq!(set.get(Some("e1")).unwrap().algorithm, Algorithm::EdDSA);
        assert!(set.get(Some("other")).is_none());
        assert!(set.get(None).is_none(), "no kid among several keys chooses none");
    }

    #[test]
    fn a_token_without_kid_uses_the_only_key() {
        let set = parse(vec![rsa(None)]).unwrap();
        assert_eq!(set.get(None).unwrap().algorithm, Algorithm::RS256);
        let set = parse(vec![ed("e1")]).unwrap();
        assert_eq!(set.get(None).unwrap().algorithm, Algorithm::EdDSA);
    }

    #[test]
    fn keys_that_cannot_verify_our_tokens_are_skipped() {
        let set = parse(vec![
            ed("good"),
            jwk(Algorithm::RS256, Some("enc"), json!({"use": "enc"})),
            jwk(Algorithm::RS256, Some("ps"), json!({"alg": "PS256"})),
            json!({"kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}),
            jwk(Algorithm::EdDSA, Some("x"), json!({"crv": "X25519"})),
            json!({"kty": "RSA", "kid": "broken"}),
            json!({"kty": "future-kind", "kid": "new"}),
        ])
        .unwrap();
        assert_eq!(set.kids(), ["good"]);
    }

    #[test]
    fn a_set_without_usable_keys_or_with_a_kid_twice_is_refused() {
        let err = parse(vec![json!({"kty": "oct", "k": "c2VjcmV0"})]).unwrap_err().to_string();
        assert!(err.contains("no usable key"), "{err}");
        let err = parse(vec![ed("k"), rsa(Some("k"))]).unwrap_err().to_string();
        assert!(err.contains("two keys with kid \"k\""), "{err}");
        assert!(KeySet::parse(b"{\"not\": []}").unwrap_err().to_string().contains("not a JWK set"));
        assert!(KeySet::parse(b"<html>").is_err());
    }

    #[test]
    fn sets_compare_by_their_usable_keys() {
        let a = parse(vec![rsa(Some("r1")), ed("e1")]).unwrap();
        let same = parse(vec![ed("e1"), rsa(Some("r1")), json!({"kty": "oct", "k": "eA"})]).unwrap();
        let other = parse(vec![ed("e1")]).unwrap();
        assert!(a.same_keys(&same) && !a.same_keys(&other));
    }
}
