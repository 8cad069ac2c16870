//! Who is calling: a bearer JWT becomes a [`Principal`] (tenant `org`, subject, scopes), checked
//! by the [`Authenticator`] (wrapped around each gRPC service, [`Authenticator::wrap`]) and read
//! by handlers with [`principal`], or as an authorized [`Caller`] whose [`Ctx`] stamps the writes
//! of its call. Keys: an HS256 secret, a public key file, or a JWK set refreshed in the
//! background (`jwks`, `jwks_source`).
//!
//! The tenant is always the token's `org`, never a request field.

mod args;
mod cache;
mod caller;
mod jwks;
mod jwks_source;
mod jwt;
mod layer;
mod signer;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use tonic::{Request, Status};

use crate::status;

pub use args::AuthArgs;
pub use caller::{Caller, Ctx};
pub use jwks_source::{DEFAULT_REFRESH_INTERVAL as DEFAULT_JWKS_REFRESH_INTERVAL, UNKNOWN_KID_REFRESH_GAP};
pub use jwt::{Authenticator, mint_hs256};
pub use layer::{AuthLayer, Authenticated};
pub use signer::TokenSigner;

/// ErrorInfo domain used when a handler finds no principal at all, which means its service was
/// not wrapped by the [`Authenticator`].
pub const FALLBACK_DOMAIN: &str = "regserial";

/// A permission a token may carry in its space-separated `scope` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    SerialsRead,
    SerialsWrite,
    RegistrationsRead,
    RegistrationsWrite,
    RegistrationsReview,
}

impl Scope {
    /// Every scope, in a fixed order.
    pub const ALL: [Scope; 5] = [
        Scope::SerialsRead,
        Scope::SerialsWrite,
        Scope::RegistrationsRead,
        Scope::RegistrationsWrite,
        Scope::RegistrationsReview,
    ];

    /// The name in the `scope` claim, such as `serials:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SerialsRead => "serials:read",
            Scope::SerialsWrite => "serials:write",
            Scope::RegistrationsRead => "registrations:read",
            Scope::RegistrationsWrite => "registrations:write",
            Scope::RegistrationsReview => "registrations:review",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of [`Scope::ALL`].
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The tenant every read and write of the call is confined to.
    pub org: String,
    /// The token's `sub`: who acts, recorded as the actor of changes.
    pub subject: String,
    scopes: Vec<Scope>,
    token: BearerToken,
}

impl Principal {
    pub(crate) fn new(org: String, subject: String, scopes: Vec<Scope>, token: &str) -> Self {
        let mut scopes = scopes;
        scopes.sort_unstable();
        scopes.dedup();
        Self { org, subject, scopes, token: BearerToken(Arc::from(token)) }
    }

    /// A principal for handler tests, with no token.
    pub fn for_tests(org: impl Into<String>, subject: impl Into<String>, scopes: &[Scope]) -> Principal {
        Self::new(org.into(), subject.into(), scopes.to_vec(), "")
    }

    /// The scopes the token grants, deduplicated.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Ok if the token holds at least one of `scopes` (an empty list requires nothing), else
    /// PERMISSION_DENIED with reason `MISSING_SCOPE` and metadata `required` naming them.
    pub fn require_any(&self, domain: &'static str, scopes: &[Scope]) -> Result<(), Status> {
        if scopes.is_empty() || scopes.iter().any(|scope| self.has_scope(*scope)) {
            return Ok(());
        }
        let required = scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" or ");
        let message = format!("the token lacks the required scope: {required}");
        Err(status::permission_denied(domain, "MISSING_SCOPE", &message, &[("required", &required)]))
    }

    /// The raw JWT the caller presented, to forward to another service on its behalf (empty for
    /// [`Principal::for_tests`]).
    pub fn bearer(&self) -> &str {
        &self.token.0
    }
}

/// The raw token: kept for forwarding, never printed.
#[derive(Clone)]
struct BearerToken(Arc<str>);

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "<none>" } else { "<redacted>" })
    }
}

/// The principal the [`Authenticator`] attached to `req`; UNAUTHENTICATED when there is none.
pub fn principal<T>(req: &Request<T>) -> Result<Principal, Status> {
    match req.extensions().get::<Principal>() {
        Some(principal) => Ok(principal.clone()),
        None => {
            tracing::warn!("request without a principal: is the service wrapped by the authenticator");
            Err(status::unauthenticated(FALLBACK_DOMAIN, "request is not authenticated"))
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn scopes_round_trip_through_their_names() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert_eq!(Scope::RegistrationsReview.to_string(), "registrations:review");
        assert_eq!("serials:admin".parse::<Scope>(), Err(UnknownScope("serials:admin".into())));
    }

    #[test]
    fn any_one_of_the_required_scopes_is_enough() {
        let registrar = Principal::for_tests("acme", "svc", &[Scope::RegistrationsWrite]);
        assert!(registrar.require_any("d", &[Scope::SerialsWrite, Scope::RegistrationsWrite]).is_ok());
        assert!(registrar.require_any("d", &[]).is_ok());
        assert!(registrar.has_scope(Scope::RegistrationsWrite) && !registrar.has_scope(Scope::SerialsRead));
    }

    #[test]
    fn a_missing_scope_is_permission_denied_naming_the_alternatives() {
        let reader = Principal::for_tests("acme", "u1", &[Scope::SerialsRead]);
        let err = reader
            .require_any("serial.regserial", &[Scope::SerialsWrite, Scope::RegistrationsWrite])
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        let info = tonic_types::StatusExt::get_details_error_info(&err).expect("error info");
        assert_eq!((info.reason.as_str(), info.domain.as_str()), ("MISSING_SCOPE", "serial.regserial"));
        assert_eq!(info.metadata["required"], "serials:write or registrations:write");
    }

    #[test]
    fn the_principal_is_read_from_request_extensions() {
        let mut req = Request::new(());
        assert_eq!(principal(&req).unwrap_err().code(), Code::Unauthenticated);
        req.extensions_mut().insert(Principal::for_tests("acme", "u1", &[Scope::SerialsRead]));
        let found = principal(&req).unwrap();
        assert_eq!((found.org.as_str(), found.subject.as_str(), found.bearer()), ("acme", "u1", ""));
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let principal =
            Principal::new("acme".into(), "u1".into(), vec![Scope::SerialsRead], "eyJhbGciOi.secret.sig");
        let shown = format!("{principal:?}");
        assert!(shown.contains("acme") && !shown.contains("secret"), "{shown}");
    }
}
