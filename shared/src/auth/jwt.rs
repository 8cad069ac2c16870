//! Verifying bearer JWTs (HS256 with a shared secret, or EdDSA / RS256 with a public key) and
//! minting HS256 tokens for the CLI and tests.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tonic::Status;
use tonic::metadata::MetadataMap;
use tonic::service::Interceptor;

use super::cache::TokenCache;
use super::{Principal, Scope};
use crate::status;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;

/// Checks the `authorization: Bearer <JWT>` of each call. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    key: DecodingKey,
    validation: Validation,
    domain: &'static str,
    verified: TokenCache,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("algorithms", &self.inner.validation.algorithms)
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

impl Authenticator {
    /// Accepts HS256 tokens signed with `secret`. `domain` is the ErrorInfo domain of refusals.
    pub fn hs256(secret: &[u8], domain: &'static str) -> Self {
        Self::new(DecodingKey::from_secret(secret), Algorithm::HS256, domain)
    }

    /// Accepts tokens signed by the private half of `pem`: an Ed25519 public key (EdDSA) or an
    /// RSA public key (RS256), told apart from the PEM itself.
    pub fn from_public_key_pem(pem: &[u8], domain: &'static str) -> anyhow::Result<Self> {
        if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            return Ok(Self::new(key, Algorithm::EdDSA, domain));
        }
        match DecodingKey::from_rsa_pem(pem) {
            Ok(key) => Ok(Self::new(key, Algorithm::RS256, domain)),
            Err(err) => bail!("not an Ed25519 or RSA public key in PEM format ({err})"),
        }
    }

    fn new(key: DecodingKey, algorithm: Algorithm, domain: &'static str) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self { inner: Arc::new(Inner { key, validation, domain, verified: TokenCache::default() }) }
    }

    /// The principal of the call carrying `metadata`, or UNAUTHENTICATED saying what is wrong
    /// with its credentials.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, Status> {
        self.verify(metadata).map_err(|reason| {
            tracing::debug!(reason, "request refused as unauthenticated");
            status::unauthenticated(self.inner.domain, reason)
        })
    }

    fn verify(&self, metadata: &MetadataMap) -> Result<Principal, &'static str> {
        let header = metadata.get("authorization").ok_or("missing authorization header")?;
        let header = header.to_str().map_err(|_| "malformed authorization header")?;
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err("authorization header is not a bearer token"),
        };
        if token.is_empty() {
            return Err("empty bearer token");
        }
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(principal) = self.inner.verified.get(token, now) {
            return Ok(principal);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.inner.key, &self.inner.validation)
            .map_err(|err| refusal(err.kind()))?
            .claims;
        let org = claims.org.filter(|org| !org.is_empty()).ok_or("token has no org claim")?;
        let subject = claims.sub.filter(|sub| !sub.is_empty()).ok_or("token has no sub claim")?;
        let scopes = claims.scope.as_deref().unwrap_or_default().split_whitespace();
        let scopes = scopes.filter_map(|name| name.parse::<Scope>().ok()).collect();
        let principal = Principal::new(org, subject, scopes, token);
        if let Some(exp) = claims.exp.filter(|exp| exp.is_finite() && *exp > 0.0) {
            // Whole seconds, rounded down: remembered no later than the token's exp.
            self.inner.verified.insert(token, &principal, exp as u64, now);
        }
        Ok(principal)
    }
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
