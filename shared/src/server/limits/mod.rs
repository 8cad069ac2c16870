//! What keeps one replica within its means, from its flags ([`LimitArgs`]): a per-org rate
//! limit ([`RateLimit`], applied inside the authenticator with [`Limits::rate_limited`]), load
//! shedding beyond a number of concurrent calls ([`Shed`]), the deadline of each call made
//! known to the calls it makes ([`super::deadline`]), and a maximum connection age so that
//! clients reconnect and spread over replicas. Health and reflection are never limited: the
//! [`super::ServerBuilder`] applies limits only to the services added to it.

mod args;
mod rate;
mod shed;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tonic::transport::Server;

pub use args::{DEFAULT_MAX_CONNECTION_AGE, LimitArgs};
pub use rate::{FORGET_FULL_BUCKETS_EVERY, RATE_LIMITED, RateLimit, RateLimited, retry_after_secs};
pub use shed::{OVERLOADED, OVERLOADED_RETRY_DELAY, Shed, ShedFuture};

use super::deadline::Deadlined;
use super::guard::Guarded;
use super::{GrpcBody, Layers, RoutableService, Router};

/// The limits of one server. Cheap to clone.
#[derive(Clone)]
pub struct Limits {
    rate: Option<RateLimit>,
    permits: Option<Arc<Semaphore>>,
    max_connection_age: Duration,
    domain: &'static str,
}

impl Limits {
    /// The limits `args` ask for, refusals carrying ErrorInfo `domain`. Call it on the runtime
    /// (the rate limit starts a task that forgets idle orgs).
    pub fn new(args: &LimitArgs, domain: &'static str) -> anyhow::Result<Self> {
        args.validate()?;
        let rate = match (args.rate_limit_rps, args.burst()) {
            (Some(rps), Some(burst)) => Some(RateLimit::new(rps, burst, domain)?),
            _ => None,
        };
        let permits = args.max_concurrent_requests.map(|max| Arc::new(Semaphore::new(max as usize)));
        if let Some(rps) = args.rate_limit_rps {
            tracing::info!(rps, burst = args.burst(), "rate limit per org on");
        }
        if let Some(max) = args.max_concurrent_requests {
            tracing::info!(max, "load shedding on");
        }
        Ok(Self { rate, permits, max_connection_age: args.max_connection_age, domain })
    }

    /// No rate limit, no load shedding, the default connection age.
    pub fn unlimited(domain: &'static str) -> Self {
        Self {
            rate: None,
            permits: None,
            max_connection_age: LimitArgs::default().max_connection_age,
            domain,
        }
    }

    /// [`super::server()`] with the maximum connection age: past it, the server tells the
    /// client to go (HTTP/2 GOAWAY); calls in flight finish on the old connection, new ones go
    /// on a new connection, perhaps to another replica.
    ///
    /// `max_connection_age_grace` is deliberately not set: in tonic 0.14.9 it replaces the
    /// graceful GOAWAY at the age by a forced close at age + grace (`connection_timeout_future`
    /// resolves once, with `ForcefulShutdown`), which would cut calls in flight. Without it, a
    /// connection whose streams never end (a `WatchImportJob`) stays open until they do.
    pub fn server(&self) -> Server<Layers> {
        super::server().max_connection_age(self.max_connection_age)
    }

    /// `service` behind the per-org rate limit (if on). Wrap the generated service with it,
    /// then with the authenticator, which must run first:
    /// `InterceptedService::new(limits.rate_limited(api.serial_service()), authenticator)`.
    pub fn rate_limited<S>(&self, service: S) -> RateLimited<S> {
        Guarded::new(service, self.rate.clone())
    }

    /// The rate limit, if on.
    pub fn rate(&self) -> Option<&RateLimit> {
        self.rate.as_ref()
    }

    /// Adds `service` to `router`, its calls knowing their deadline, and shed beyond the
    /// concurrency limit (if on).
    pub(super) fn add<S, B>(&self, router: Router, service: S) -> Router
    where
        S: RoutableService<B>,
        B: GrpcBody,
    {
        let service = Deadlined::new(service);
        match &self.permits {
            Some(permits) => router.add_service(Shed::new(service, permits.clone(), self.domain)),
            None => router.add_service(service),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::unlimited(crate::auth::FALLBACK_DOMAIN)
    }
}

#[cfg(test)]
mod tests;
