//! The deadline of the call being served, for the calls it makes in turn: [`Deadlined`] reads
//! the caller's `grpc-timeout` (capped by the server's own request timeout, as tonic caps it)
//! when the call arrives and keeps the instant in a task-local for as long as the call's
//! future runs; [`remaining`] answers how much of it is left. A client such as
//! registration-svc's serial-svc client passes it on, shortened, without each handler
//! threading it through.
//!
//! Past the deadline tonic itself ends the call: the caller gets CANCELLED ("Timeout expired")
//! from tonic's server timeout, whichever of the two (the caller's or the server's) is shorter.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::futures::TaskLocalFuture;
use tokio::time::Instant;
use tonic::server::NamedService;
use tower::Service;

use super::DEFAULT_REQUEST_TIMEOUT;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// How much time the call being served has left (zero once it has passed), or `None` outside
/// a served call (a background task).
pub fn remaining() -> Option<Duration> {
    DEADLINE.try_with(|deadline| deadline.saturating_duration_since(Instant::now())).ok()
}

/// Runs `future` as if it served a call with `timeout` left (tests, and work done on behalf of
/// a call in a task of its own).
pub async fn with_timeout<F: Future>(timeout: Duration, future: F) -> F::Output {
    DEADLINE.scope(Instant::now() + timeout, future).await
}

/// A gRPC service whose calls know their deadline (see [`remaining`]).
#[derive(Clone, Debug)]
pub struct Deadlined<S> {
    inner: S,
    request_timeout: Duration,
}

impl<S> Deadlined<S> {
    /// `inner`, its calls bounded by the caller's `grpc-timeout` and [`DEFAULT_REQUEST_TIMEOUT`].
    pub fn new(inner: S) -> Self {
        Self { inner, request_timeout: DEFAULT_REQUEST_TIMEOUT }
    }
}

impl<S: NamedService> NamedService for Deadlined<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for Deadlined<S>
where
    S: Service<http::Request<B>, Error = Infallible>,
{
    type Response = S::Response;
    type Error = Infallible;
    type Future = TaskLocalFuture<Instant, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let timeout = match grpc_timeout(request.headers()) {
            Some(asked) => asked.min(self.request_timeout),
            None => self.request_timeout,
        };
        DEADLINE.scope(Instant::now() + timeout, self.inner.call(request))
    }
}

/// The `grpc-timeout` header: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`), per
/// the gRPC over HTTP/2 specification; `None` when absent or malformed (tonic ignores such a
/// header too).
pub fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().unwrap());
        headers
    }

    #[test]
    fn grpc_timeout_values_are_read_in_every_unit_and_bad_ones_ignored() {
        for (value, want) in [
            ("2H", Duration::from_secs(7200)),
            ("3M", Duration::from_secs(180)),
            ("1S", Duration::from_secs(1)),
            ("1500m", Duration::from_millis(1500)),
            ("99999999u", Duration::from_micros(99_999_999)),
            ("7n", Duration::from_nanos(7)),
        ] {
            assert_eq!(grpc_timeout(&headers(value)), Some(want), "{value}");
        }
        for bad in ["", "m", "100", "123456789m", "-1m", "1.5S", "10x", "1 S"] {
            let map = if bad.is_empty() { http::HeaderMap::new() } else { headers(bad) };
            assert_eq!(grpc_timeout(&map), None, "{bad:?}");
        }
    }

    /// A service answering with the time its call had left.
    #[derive(Clone)]
    struct Left;

    type LeftFn = fn(&mut Context<'_>) -> Result<Option<Duration>, Infallible>;

    impl Service<http::Request<()>> for Left {
        type Response = Option<Duration>;
        type Error = Infallible;
        type Future = futures::future::Lazy<LeftFn>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            // Read when polled, inside the call's scope.
            futures::future::lazy((|_| Ok(remaining())) as LeftFn)
        }
    }

    async fn left(service: &mut Deadlined<Left>, timeout: Option<&str>) -> Duration {
        let mut request = http::Request::new(());
        if let Some(timeout) = timeout {
            request.headers_mut().insert("grpc-timeout", timeout.parse().unwrap());
        }
        service.call(request).await.unwrap().expect("a deadline inside the call")
    }

    /// Whether `left` is what remains of `timeout` a moment after it started.
    fn about(left: Duration, timeout: Duration) -> bool {
        left <= timeout && left > timeout.saturating_sub(Duration::from_secs(1))
    }

    #[tokio::test]
    async fn a_call_sees_the_shorter_of_its_timeout_and_the_servers() {
        let mut service = Deadlined::new(Left);
        let left_of = |left| move |timeout| about(left, timeout);
        assert!(left_of(left(&mut service, Some("1500m")).await)(Duration::from_millis(1500)));
        assert!(left_of(left(&mut service, Some("1H")).await)(DEFAULT_REQUEST_TIMEOUT));
        assert!(left_of(left(&mut service, None).await)(DEFAULT_REQUEST_TIMEOUT));
        assert_eq!(remaining(), None, "no deadline outside a call");
        let inside = with_timeout(Duration::from_secs(3), async { remaining() }).await.unwrap();
        assert!(about(inside, Duration::from_secs(3)), "{inside:?}");
    }
}
