//! Verifying bearer JWTs (HS256 with a shared secret, EdDSA / RS256 with a public key, or the
//! RS256 and EdDSA keys of a JWK set chosen by `kid`) and minting HS256 tokens for the CLI and
//! tests.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use http::HeaderValue;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tonic::Status;
use tonic::metadata::MetadataMap;
use tonic::service::Interceptor;

use super::cache::TokenCache;
use super::jwks::{KeySet, VerifyingKey};
use super::jwks_source::JwksKeys;
use super::{Principal, Scope};
use crate::status;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;

/// Checks the `authorization: Bearer <JWT>` of each call. Cheap to clone.
///
/// As a tonic [`Interceptor`] it verifies with the keys it holds; wrapped around a service with
/// [`Authenticator::wrap`] it also refreshes a JWK set when a token names a `kid` the set lacks,
/// before refusing it.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    /// One validation per algorithm a key may verify (the token's `alg` must be the key's).
    validations: Vec<(Algorithm, Validation)>,
    domain: &'static str,
    verified: TokenCache,
}

/// Where the verifying keys come from.
enum Keys {
    /// One key, whatever the token's `kid`: the HS256 secret or a public key file.
    Fixed(Arc<VerifyingKey>),
    /// A JWK set, the key chosen by the token's `kid`.
    Jwks(Arc<JwksKeys>),
}

/// The keys of one verification, and the generation of the set they come from.
enum Snapshot {
    Fixed(Arc<VerifyingKey>),
    Set(Arc<KeySet>),
}

impl Keys {
    fn snapshot(&self) -> (Snapshot, u64) {
        match self {
            Keys::Fixed(key) => (Snapshot::Fixed(key.clone()), 0),
            Keys::Jwks(keys) => {
                let (set, generation) = keys.current();
                (Snapshot::Set(set), generation)
            }
        }
    }
}

/// The `iss` and `aud` a token must carry, when set (`--jwt-issuer`, `--jwt-audience`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Expected {
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.inner.keys {
            Keys::Fixed(key) => format!("fixed {:?}", key.algorithm),
            Keys::Jwks(_) => "jwks".to_owned(),
        };
        f.debug_struct("Authenticator")
            .field("keys", &keys)
            .field("domain", &self.inner.domain)
            .finish_non_exhaustive()
    }
}

/// The claims read from a token. Everything is optional here so that a missing claim is
/// reported by name rather than as a malformed token.
#[derive(Deserialize)]
struct Claims {
    org: Option<String>,
    sub: Option<String>,
    scope: Option<String>,
    /// Seconds since the epoch; required, and checked by `jsonwebtoken` (which accepts floats).
    exp: Option<f64>,
}

/// Why a token was refused: the message for the client, and whether a fresher key set might
/// accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) reason: &'static str,
    pub(crate) unknown_key: bool,
}

impl From<&'static str> for Refusal {
    fn from(reason: &'static str) -> Self {
        Refusal { reason, unknown_key: false }
    }
}

impl Authenticator {
    /// Accepts HS256 tokens signed with `secret`. `domain` is the ErrorInfo domain of refusals.
    pub fn hs256(secret: &[u8], domain: &'static str) -> Self {
        let key = VerifyingKey { key: DecodingKey::from_secret(secret), algorithm: Algorithm::HS256 };
        Self::new(Keys::Fixed(Arc::new(key)), Expected::default(), domain)
    }

    /// Accepts tokens signed by the private half of `pem`: an Ed25519 public key (EdDSA) or an
    /// RSA public key (RS256), told apart from the PEM itself.
    pub fn from_public_key_pem(pem: &[u8], domain: &'static str) -> anyhow::Result<Self> {
        Ok(Self::new(Keys::Fixed(Arc::new(public_key(pem)?)), Expected::default(), domain))
    }

    pub(crate) fn fixed(key: VerifyingKey, expected: Expected, domain: &'static str) -> Self {
        Self::new(Keys::Fixed(Arc::new(key)), expected, domain)
    }

    pub(crate) fn jwks(keys: Arc<JwksKeys>, expected: Expected, domain: &'static str) -> Self {
        Self::new(Keys::Jwks(keys), expected, domain)
    }

    fn new(keys: Keys, expected: Expected, domain: &'static str) -> Self {
        let validations = [Algorithm::HS256, Algorithm::RS256, Algorithm::EdDSA]
            .into_iter()
            .map(|algorithm| (algorithm, validation(algorithm, &expected)))
            .collect();
        Self { inner: Arc::new(Inner { keys, validations, domain, verified: TokenCache::default() }) }
    }

    /// The principal of the call carrying `metadata`, or UNAUTHENTICATED saying what is wrong
    /// with its credentials. Verifies with the keys at hand (no refresh).
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, Status> {
        self.verify(metadata.as_ref().get(http::header::AUTHORIZATION))
            .map_err(|refusal| self.refuse(refusal))
    }

    /// Like [`Authenticator::authenticate`] on an `authorization` header, and when the token
    /// names a key the JWK set lacks, after a refresh of the set (see
    /// [`super::jwks_source::UNKNOWN_KID_REFRESH_GAP`]).
    pub(crate) async fn authenticate_refreshing(
        &self,
        header: Option<&HeaderValue>,
    ) -> Result<Principal, Status> {
        match self.verify(header) {
            Err(refusal) if refusal.unknown_key => {
                if let Keys::Jwks(keys) = &self.inner.keys {
                    keys.refresh_for_unknown_kid().await;
                }
                self.verify(header).map_err(|refusal| self.refuse(refusal))
            }
            verdict => verdict.map_err(|refusal| self.refuse(refusal)),
        }
    }

    pub(crate) fn refuse(&self, refusal: Refusal) -> Status {
        tracing::debug!(reason = refusal.reason, "request refused as unauthenticated");
        status::unauthenticated(self.inner.domain, refusal.reason)
    }

    pub(crate) fn verify(&self, header: Option<&HeaderValue>) -> Result<Principal, Refusal> {
        let header = header.ok_or("missing authorization header")?;
        let header = header.to_str().map_err(|_| "malformed authorization header")?;
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err("authorization header is not a bearer token".into()),
        };
        if token.is_empty() {
            return Err("empty bearer token".into());
        }
        let now = jsonwebtoken::get_current_timestamp();
        let (keys, generation) = self.inner.keys.snapshot();
        if let Some(principal) = self.inner.verified.get(token, now, generation) {
            return Ok(principal);
        }
        let key = match keys {
            Snapshot::Fixed(key) => key,
            Snapshot::Set(set) => {
                let kid = jsonwebtoken::decode_header(token).map_err(|_| "malformed token")?.kid;
                set.get(kid.as_deref())
                    .ok_or(Refusal { reason: "token signed with an unknown key", unknown_key: true })?
            }
        };
        let validation = self.validation(key.algorithm);
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, validation)
            .map_err(|err| refusal(err.kind()))?
            .claims;
        let org = claims.org.filter(|org| !org.is_empty()).ok_or("token has no org claim")?;
        let subject = claims.sub.filter(|sub| !sub.is_empty()).ok_or("token has no sub claim")?;
        let scopes = claims.scope.as_deref().unwrap_or_default().split_whitespace();
        let scopes = scopes.filter_map(|name| name.parse::<Scope>().ok()).collect();
        let principal = Principal::new(org, subject, scopes, token);
        if let Some(exp) = claims.exp.filter(|exp| exp.is_finite() && *exp > 0.0) {
            // Whole seconds, rounded down: remembered no later than the token's exp.
            self.inner.verified.insert(token, &principal, exp as u64, now, generation);
        }
        Ok(principal)
    }

    fn validation(&self, algorithm: Algorithm) -> &Validation {
        let found = self.inner.validations.iter().find(|(alg, _)| *alg == algorithm);
        &found.unwrap_or(&self.inner.validations[0]).1
    }
}

/// The public key in `pem`: Ed25519 (EdDSA) or RSA (RS256).
pub(crate) fn public_key(pem: &[u8]) -> anyhow::Result<VerifyingKey> {
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok(VerifyingKey { key, algorithm: Algorithm::EdDSA });
    }
    match DecodingKey::from_rsa_pem(pem) {
        Ok(key) => Ok(VerifyingKey { key, algorithm: Algorithm::RS256 }),
        Err(err) => bail!("not an Ed25519 or RSA public key in PEM format ({err})"),
    }
}

/// What a token verified with an `algorithm` key must satisfy: `exp` and `sub` (and `iss`,
/// `aud` when expected), `nbf` when present, within [`LEEWAY_SECS`]. Without an expected
/// audience, `aud` is not checked.
fn validation(algorithm: Algorithm, expected: &Expected) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(issuer) = &expected.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &expected.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

/// Why a token was refused, for the client (never echoing the token).
fn refusal(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "token not yet valid",
        ErrorKind::InvalidSignature => "invalid token signature",
        ErrorKind::InvalidAlgorithm => "token signed with an algorithm this service does not accept",
        ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => "token has no exp claim",
        ErrorKind::MissingRequiredClaim(claim) if claim == "sub" => "token has no sub claim",
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => "token has no iss claim",
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => "token has no aud claim",
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => "token claims are malformed",
        ErrorKind::InvalidAudience => "token audience not accepted",
        ErrorKind::InvalidIssuer => "token issuer not accepted",
        _ => "malformed token",
    }
}

impl Interceptor for Authenticator {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let principal = self.authenticate(request.metadata())?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

/// An HS256 token for `org` and `subject` granting `scopes`, valid for `ttl` from now: the
/// same as [`TokenSigner::hs256`](super::TokenSigner::hs256)`(secret).mint(..)`, kept for callers
/// that hold only the secret.
pub fn mint_hs256(
    secret: &[u8],
    org: &str,
    subject: &str,
    scopes: &[Scope],
    ttl: Duration,
) -> anyhow::Result<String> {
    super::TokenSigner::hs256(secret).mint(org, subject, scopes, ttl)
}

#[cfg(test)]
mod tests;
