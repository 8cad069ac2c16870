//! The per-org rate limit: a token bucket per organization (the token's `org`), per replica,
//! with `governor`. A service behind it must sit inside the authenticator, which puts the
//! caller's [`Principal`] in the request's extensions before the call gets here.

use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::auth::Principal;
use crate::server::guard::{Guard, Guarded};

/// How often buckets that have filled up again are forgotten, so that the memory held is
/// bounded by the orgs seen in the last moments, not by every org ever seen.
pub const FORGET_FULL_BUCKETS_EVERY: Duration = Duration::from_secs(60);

/// The ErrorInfo reason of a call over the rate limit.
pub const RATE_LIMITED: &str = "RATE_LIMITED";

/// Token buckets by org. Cheap to clone.
#[derive(Clone)]
pub struct RateLimit {
    buckets: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    domain: &'static str,
}

impl RateLimit {
    /// Buckets of `burst` calls refilled at `rps` calls per second, refusals in `domain`.
    /// Spawns the task that forgets full buckets (it ends with the last clone).
    pub fn new(rps: f64, burst: u32, domain: &'static str) -> anyhow::Result<Self> {
        let period = Duration::try_from_secs_f64(1.0 / rps)
            .ok()
            .filter(|period| !period.is_zero())
            .ok_or_else(|| anyhow::anyhow!("--rate-limit-rps {rps} gives no usable refill period"))?;
        let burst =
            NonZeroU32::new(burst).ok_or_else(|| anyhow::anyhow!("--rate-limit-burst must be at least 1"))?;
        let quota = Quota::with_period(period)
            .ok_or_else(|| anyhow::anyhow!("--rate-limit-rps {rps} gives no usable refill period"))?
            .allow_burst(burst);
        let buckets = Arc::new(DefaultKeyedRateLimiter::keyed(quota));
        tokio::spawn(forget_full_buckets(Arc::downgrade(&buckets)));
        Ok(Self { buckets, clock: DefaultClock::default(), domain })
    }

    /// Takes a token from `org`'s bucket: `Err(wait)` when it is empty, `wait` being how long
    /// until the next token.
    pub fn check(&self, org: &str) -> Result<(), Duration> {
        // Keyed by an owned String: the lookup allocates once per call, a small price next to
        // the JWT check that precedes it.
        self.buckets
            .check_key(&org.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// `service` behind this limit.
    pub fn guard<S>(&self, service: S) -> RateLimited<S> {
        Guarded::new(service, Some(self.clone()))
    }

    /// RESOURCE_EXHAUSTED `RATE_LIMITED` with RetryInfo `wait`, and a `retry-after` header of
    /// `wait` in whole seconds, rounded up.
    fn refusal(&self, wait: Duration) -> http::Response<tonic::body::Body> {
        let message = "rate limit of the organization exceeded, retry later";
        let status = crate::status::resource_exhausted(self.domain, RATE_LIMITED, message, wait);
        let mut response = status.into_http::<tonic::body::Body>();
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(retry_after_secs(wait)));
        response
    }

    /// Buckets held now (orgs seen lately).
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Forgets the buckets that are full again (as if never used).
    pub fn forget_full_buckets(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}

/// `wait` in whole seconds, rounded up, at least 1 (`Retry-After` has no fractions).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

async fn forget_full_buckets(buckets: Weak<DefaultKeyedRateLimiter<String>>) {
    let mut every = tokio::time::interval(FORGET_FULL_BUCKETS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        let Some(buckets) = buckets.upgrade() else { return };
        buckets.retain_recent();
        buckets.shrink_to_fit();
    }
}

/// A gRPC service behind a [`RateLimit`] (or none: every call passes).
pub type RateLimited<S> = Guarded<S, Option<RateLimit>>;

/// Turns away a call whose org's bucket is empty.
impl Guard for RateLimit {
    fn refuse(
        &self,
        request: &http::Request<tonic::body::Body>,
    ) -> Option<http::Response<tonic::body::Body>> {
        // No principal: the authenticator did not run, and the service will refuse the call.
        let principal = request.extensions().get::<Principal>()?;
        let wait = self.check(&principal.org).err()?;
        tracing::debug!(org = %principal.org, wait_ms = wait.as_millis(), "rate limited");
        Some(self.refusal(wait))
    }
}
