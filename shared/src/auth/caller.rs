//! The authorized caller of one call, and the context its writes are stamped with: the same in
//! both services, so a handler starts with `Caller::authorize` and hands `caller.ctx()` down.

use chrono::{DateTime, Utc};
use tonic::{Request, Status};

use super::{Principal, Scope, principal};
use crate::clock::SharedClock;

/// Who acts, for which organization, and when: every write is stamped with it.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The tenant: the token's `org`, never a request field.
    pub org: &'a str,
    /// The token's `sub`, recorded in the history of what it changes.
    pub actor: &'a str,
    pub now: DateTime<Utc>,
}

/// An authorized caller and the instant its call is handled at.
pub struct Caller {
    pub principal: Principal,
    pub now: DateTime<Utc>,
}

impl Caller {
    /// The caller of `request`, if its token holds any of `scopes` (else PERMISSION_DENIED with
    /// ErrorInfo `domain`), at the clock's current time.
    pub fn authorize<T>(
        request: &Request<T>,
        domain: &'static str,
        scopes: &[Scope],
        clock: &SharedClock,
    ) -> Result<Self, Status> {
        let principal = principal(request)?;
        principal.require_any(domain, scopes)?;
        Ok(Self { principal, now: clock.now() })
    }

    /// The context every write of this call is stamped with.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { org: &self.principal.org, actor: &self.principal.subject, now: self.now }
    }

    pub fn org(&self) -> &str {
        &self.principal.org
    }

    /// The caller's token, for forwarding to another service that acts on its behalf.
    pub fn bearer(&self) -> &str {
        self.principal.bearer()
    }
}
