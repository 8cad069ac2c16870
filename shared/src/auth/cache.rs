//! Verified tokens remembered by their raw text, so that a client repeating its token is not
//! verified again on every call (signature and claims checks cost several microseconds, a large
//! share of a cheap read).
//!
//! Only successes are remembered, each until the token's `exp` (never past it, though
//! verification would still accept it for [`super::jwt`]'s leeway). The cache is a bounded
//! `moka` cache: it holds no serial state, only what the token itself says, and evicts what is
//! least used when full.

use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

use super::Principal;

/// Most tokens remembered at once.
pub(crate) const MAX_TOKENS: u64 = 4096;
/// Longest token remembered, in bytes, so that the cache stays within a few megabytes whatever
/// the tokens (typical ones are a few hundred bytes); longer ones are verified on every call.
pub(crate) const MAX_TOKEN_LEN: usize = 2048;

pub(crate) struct TokenCache {
    entries: Cache<Box<str>, Entry>,
}

#[derive(Clone)]
struct Entry {
    principal: Principal,
    /// The generation of the key set that verified it: an entry of another generation is not
    /// used (a key withdrawn from a JWK set stops verifying at once).
    generation: u64,
    /// The token's `exp`, in seconds since the epoch.
    expires: u64,
    /// How long it is kept: until its `exp`.
    lifetime: Duration,
}

/// Each entry leaves the cache at its token's `exp`.
struct UntilExp;

impl Expiry<Box<str>, Entry> for UntilExp {
    fn expire_after_create(&self, _: &Box<str>, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self { entries: Cache::builder().max_capacity(MAX_TOKENS).expire_after(UntilExp).build() }
    }
}

impl TokenCache {
    /// The principal of `token` if it was verified before by keys of `generation` and `now`
    /// (seconds) is before its `exp`.
    pub(crate) fn get(&self, token: &str, now: u64, generation: u64) -> Option<Principal> {
        let entry = self.entries.get(token)?;
        (now < entry.expires && entry.generation == generation).then_some(entry.principal)
    }

    /// Remembers the principal of a token just verified by keys of `generation`, valid until
    /// `expires` (its `exp`).
    pub(crate) fn insert(&self, token: &str, principal: &Principal, expires: u64, now: u64, generation: u64) {
        if now >= expires || token.len() > MAX_TOKEN_LEN {
            return;
        }
        let lifetime = Duration::from_secs(expires - now);
        let entry = Entry { principal: principal.clone(), generation, expires, lifetime };
        self.entries.insert(token.into(), entry);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;

    fn principal(org: &str) -> Principal {
        Principal::new(org.into(), "u1".into(), vec![Scope::SerialsRead], "token")
    }

    #[test]
    fn a_token_is_remembered_until_its_exp_only() {
        let cache = TokenCache::default();
        cache.insert("t1", &principal("acme"), 100, 50, 0);
        assert_eq!(cache.get("t1", 99, 0).map(|p| p.org), Some("acme".into()));
        assert!(cache.get("t1", 99, 1).is_none(), "a token verified by another generation of keys");
        assert!(cache.get("t1", 100, 0).is_none());
        assert!(cache.get("t2", 50, 0).is_none());
        cache.insert("t3", &principal("acme"), 100, 100, 0);
        assert!(cache.get("t3", 99, 0).is_none(), "an expired token is never remembered");
        let long = "t".repeat(MAX_TOKEN_LEN + 1);
        cache.insert(&long, &principal("acme"), 100, 50, 0);
        assert!(cache.get(&long, 50, 0).is_none(), "an overlong token is never remembered");
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let cache = TokenCache::default();
        for i in 0..MAX_TOKENS + 100 {
            cache.insert(&format!("live{i}"), &principal("acme"), 100, 20, 0);
        }
        assert!(cache.len() <= MAX_TOKENS, "{} entries", cache.len());
    }
}
