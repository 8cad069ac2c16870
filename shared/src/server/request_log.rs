//! One log line per gRPC call, written when the call ends: method, status code, latency.
//!
//! The status of a gRPC call is known either from the response headers (a trailers-only
//! response, as errors usually are) or from the trailers at the end of the body, so the line is
//! written at whichever comes first. A call dropped before it ends (client gone, or the server's
//! request timeout, which tonic answers with CANCELLED) is logged as `Cancelled`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;
use tower::{Layer, Service};
use tracing::Instrument as _;
use tracing::instrument::Instrumented;

/// Health checks are polled by orchestrators every few seconds: logged at debug, not info.
const QUIET_PREFIX: &str = "/grpc.health.v1.Health/";

/// Logs each call once it ends, and runs its handler in a `grpc` span carrying the method.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

/// The service made by [`RequestLogLayer`].
#[derive(Clone, Debug)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for RequestLog<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<LoggedBody<ResBody>>;
    type Error = S::Error;
    type Future = LoggedFuture<Instrumented<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let span = tracing::info_span!("grpc", method = %method);
        let inner = span.in_scope(|| self.inner.call(request)).instrument(span);
        LoggedFuture { inner, outcome: Some(Outcome { method, start: Instant::now(), logged: false }) }
    }
}

/// The pending log line of one call; written once, by `finish` or else on drop.
struct Outcome {
    method: String,
    start: Instant,
    logged: bool,
}

impl Outcome {
    fn finish(mut self, code: Code) {
        self.write(code);
    }

    fn write(&mut self, code: Code) {
        self.logged = true;
        log_line(&self.method, code, self.start.elapsed());
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.logged {
            self.write(Code::Cancelled);
        }
    }
}

fn log_line(method: &str, code: Code, elapsed: Duration) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if method.starts_with(QUIET_PREFIX) {
        tracing::debug!(grpc.method = method, grpc.code = ?code, latency_ms, "grpc request");
    } else {
        tracing::info!(grpc.method = method, grpc.code = ?code, latency_ms, "grpc request");
    }
}

fn grpc_status(headers: &HeaderMap) -> Option<Code> {
    headers.get("grpc-status").map(|value| Code::from_bytes(value.as_bytes()))
}

pin_project! {
    /// The response future of [`RequestLog`].
    pub struct LoggedFuture<F> {
        #[pin]
        inner: F,
        outcome: Option<Outcome>,
    }
}

impl<F, B, E> Future for LoggedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<LoggedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let outcome = this.outcome.take();
        Poll::Ready(match result {
            Ok(response) => {
                let outcome = match (outcome, grpc_status(response.headers())) {
                    (Some(outcome), Some(code)) => {
                        outcome.finish(code);
                        None
                    }
                    (outcome, _) => outcome,
                };
                Ok(response.map(|inner| LoggedBody { inner, outcome }))
            }
            Err(err) => {
                if let Some(outcome) = outcome {
                    outcome.finish(Code::Unknown);
                }
                Err(err)
            }
        })
    }
}

pin_project! {
    /// A response body that writes the call's log line when its trailers go by.
    pub struct LoggedBody<B> {
        #[pin]
        inner: B,
        outcome: Option<Outcome>,
    }
}

impl<B: Body> Body for LoggedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = ready!(this.inner.poll_frame(cx));
        let code = match &polled {
            Some(Ok(frame)) => {
                frame.trailers_ref().map(|trailers| grpc_status(trailers).unwrap_or(Code::Unknown))
            }
            Some(Err(_)) | None => Some(Code::Unknown),
        };
        if let Some(code) = code
            && let Some(outcome) = this.outcome.take()
        {
            outcome.finish(code);
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests;
