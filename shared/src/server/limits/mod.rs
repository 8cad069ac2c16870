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
use super::{DEFAULT_REQUEST_TIMEOUT, Layers, Router};

/// How long a connection past its maximum age has to finish its calls after the server asked
/// the client to go (HTTP/2 GOAWAY) before it is closed: the longest a unary call may run.
pub const MAX_CONNECTION_AGE_GRACE: Duration = DEFAULT_REQUEST_TIMEOUT;

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

    /// [`super::server()`] with the maximum connection age (and its grace).
    pub fn server(&self) -> Server<Layers> {
        super::server()
            .max_connection_age(self.max_connection_age)
            .max_connection_age_grace(MAX_CONNECTION_AGE_GRACE)
    }

    /// `service` behind the per-org rate limit (if on). Wrap the generated service with it,
    /// then with the authenticator, which must run first:
    /// `InterceptedService::new(limits.rate_limited(api.serial_service()), authenticator)`.
    pub fn rate_limited<S>(&self, service: S) -> RateLimited<S> {
        match &self.rate {
            Some(rate) => rate.guard(service),
            None => RateLimited::unlimited(service),
        }
    }

    /// The rate limit, if on.
    pub fn rate(&self) -> Option<&RateLimit> {
        self.rate.as_ref()
    }

    /// Adds `service` to `router`, its calls knowing their deadline, and shed beyond the
    /// concurrency limit (if on).
    pub(super) fn add<S, B>(&self, router: Router, service: S) -> Router
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<B>,
                Error = std::convert::Infallible,
            > + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
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
