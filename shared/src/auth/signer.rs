//! Minting tokens: the CLI's dev tokens, and a service acting on its own behalf (registration-
//! svc's recovery worker finishing what a caller started, with a token for the caller's org).

use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::Scope;

/// Signs tokens with an HS256 secret or an Ed25519 / RSA private key.
#[derive(Clone)]
pub struct TokenSigner {
    key: EncodingKey,
    algorithm: Algorithm,
    /// The `kid` of the tokens' header, naming the key in a verifier's JWK set.
    key_id: Option<String>,
    /// The `iss` and `aud` claims of the tokens, for verifiers that check them.
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct MintedClaims<'a> {
    org: &'a str,
    sub: &'a str,
    scope: String,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

impl TokenSigner {
    /// HS256 with the secret the services verify with.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
            key_id: None,
            issuer: None,
            audience: None,
        }
    }

    /// EdDSA or RS256, from a PEM private key (PKCS#8 Ed25519, or RSA): the counterpart of the
    /// public key the services verify with.
    pub fn from_private_key_pem(pem: &[u8]) -> anyhow::Result<Self> {
        if let Ok(key) = EncodingKey::from_ed_pem(pem) {
            return Ok(Self { key, algorithm: Algorithm::EdDSA, key_id: None, issuer: None, audience: None });
        }
        let key =
            EncodingKey::from_rsa_pem(pem).context("neither an Ed25519 nor an RSA private key in PEM")?;
        Ok(Self { key, algorithm: Algorithm::RS256, key_id: None, issuer: None, audience: None })
    }

    /// The same signer, naming its key `key_id` (the `kid` header) in the tokens it mints.
    pub fn with_key_id(mut self, key_id: Option<String>) -> Self {
        self.key_id = key_id;
        self
    }

    /// The same signer, writing `iss` and `aud` claims into its tokens (those a verifier with
    /// `--jwt-issuer` / `--jwt-audience` expects).
    pub fn with_issuer_and_audience(mut self, issuer: Option<String>, audience: Option<String>) -> Self {
        self.issuer = issuer;
        self.audience = audience;
        self
    }

    /// A token for `org` and `subject` granting `scopes`, valid for `ttl` from now.
    pub fn mint(&self, org: &str, subject: &str, scopes: &[Scope], ttl: Duration) -> anyhow::Result<String> {
        if org.is_empty() || subject.is_empty() {
            bail!("a token needs a non-empty org and subject");
        }
        let now = jsonwebtoken::get_current_timestamp();
        let claims = MintedClaims {
            org,
            sub: subject,
            scope: scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" "),
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
        };
        let mut header = Header::new(self.algorithm);
        header.kid.clone_from(&self.key_id);
        jsonwebtoken::encode(&header, &claims, &self.key).context("cannot sign the token")
    }
}
