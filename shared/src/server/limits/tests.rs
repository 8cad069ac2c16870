//! The limits as services see them, without a network: the rate limit by org and the load
//! shedding beyond the concurrency limit, each answering as a gRPC error with its details.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tonic::Code;
use tower::Service;

use super::*;
use crate::auth::{Principal, Scope};
use crate::server::echo::Echo;

const DOMAIN: &str = "test.regserial";

fn request(org: Option<&str>) -> http::Request<tonic::body::Body> {
    let mut request = http::Request::new(tonic::body::Body::default());
    if let Some(org) = org {
        request.extensions_mut().insert(Principal::for_tests(org, "tester", &[Scope::SerialsRead]));
    }
    request
}

/// The call's answer: `None` when it reached the service, else the refusal and its headers.
async fn call<S>(
    service: &mut S,
    request: http::Request<tonic::body::Body>,
) -> Option<(tonic::Status, http::HeaderMap)>
where
    S: Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        >,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
    let response = service.call(request).await.unwrap();
    tonic::Status::from_header_map(response.headers()).map(|status| (status, response.headers().clone()))
}

#[tokio::test]
async fn an_org_past_its_burst_is_refused_with_retry_info_and_retry_after_while_others_pass() {
    let limits = Limits::new(
        &LimitArgs { rate_limit_rps: Some(0.001), rate_limit_burst: Some(2), ..LimitArgs::default() },
        DOMAIN,
    )
    .unwrap();
    let mut service = limits.rate_limited(Echo);
    for _ in 0..2 {
        assert!(call(&mut service, request(Some("acme"))).await.is_none(), "within the burst");
    }
    let (status, headers) = call(&mut service, request(Some("acme"))).await.expect("refused");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(crate::status::error_reason(&status).as_deref(), Some(RATE_LIMITED));
    let wait = crate::status::retry_delay(&status).expect("RetryInfo");
    // One token every 1000 s: the wait is most of that, and retry-after says it in seconds.
    assert!(wait > Duration::from_secs(900) && wait <= Duration::from_secs(1000), "{wait:?}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry_after, retry_after_secs(wait));

    assert!(call(&mut service, request(Some("globex"))).await.is_none(), "another org has its own bucket");
    assert!(call(&mut service, request(None)).await.is_none(), "no principal: left to the service");
    assert_eq!(limits.rate().map(RateLimit::len), Some(2));
}

#[test]
fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
    assert_eq!(retry_after_secs(Duration::ZERO), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
    assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
}

#[tokio::test]
async fn calls_beyond_the_concurrency_limit_are_shed_as_overloaded_until_a_permit_frees() {
    let permits = Arc::new(Semaphore::new(1));
    let mut service = Shed::new(Echo, permits.clone(), DOMAIN);
    // A call in flight elsewhere holds the only permit.
    let in_flight = permits.clone().try_acquire_owned().unwrap();
    let (status, _) = call(&mut service.clone(), request(None)).await.expect("shed");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(crate::status::error_reason(&status).as_deref(), Some(OVERLOADED));
    assert_eq!(crate::status::retry_delay(&status), Some(OVERLOADED_RETRY_DELAY));

    drop(in_flight);
    assert!(call(&mut service, request(None)).await.is_none(), "served once the permit is back");
    assert_eq!(permits.available_permits(), 1, "the call gave its permit back");
}

#[tokio::test]
async fn without_limits_every_call_passes() {
    let limits = Limits::unlimited(DOMAIN);
    let mut service = limits.rate_limited(Echo);
    for _ in 0..100 {
        assert!(call(&mut service, request(Some("acme"))).await.is_none());
    }
    assert!(limits.rate().is_none());
}
