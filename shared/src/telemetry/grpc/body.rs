//! The end of a call: from the response headers (trailers-only) or the trailers of its body,
//! whichever comes first, or `Cancelled` when the call is dropped before either.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;

use super::Method;
use super::Side;
use crate::telemetry::codes::is_server_error;

/// Health checks are polled by orchestrators every few seconds: logged at debug, not info.
const QUIET_SERVICE: &str = "grpc.health.v1.Health";

/// What is left to do when the call ends; done once, by `finish` or else on drop.
pub(super) struct Outcome {
    side: Side,
    method: Method,
    span: tracing::Span,
    /// Whether the span is exported (sampled): its status is set only then.
    recording: bool,
    start: Instant,
    done: bool,
}

impl Outcome {
    pub(super) fn new(
        side: Side,
        method: Method,
        span: tracing::Span,
        recording: bool,
        start: Instant,
    ) -> Self {
        Self { side, method, span, recording, start, done: false }
    }

    fn finish(mut self, code: Code) {
        self.end(code);
    }

    fn end(&mut self, code: Code) {
        self.done = true;
        let elapsed = self.start.elapsed();
        if self.recording {
            let failed = match self.side {
                Side::Server => is_server_error(code),
                Side::Client => code != Code::Ok,
            };
            super::span::record_status(&self.span, code, failed);
        }
        super::metrics::handled(self.side, &self.method, code, elapsed);
        if self.side == Side::Server {
            let latency_ms = elapsed.as_secs_f64() * 1000.0;
            let method = self.method.path;
            // The call's span as the line's parent, without entering it (which every layer
            // would hear of, even when the line itself is filtered out).
            let span = &self.span;
            if self.method.service == QUIET_SERVICE {
                tracing::debug!(parent: span, grpc.method = method, grpc.code = ?code, latency_ms, "grpc request");
            } else {
                tracing::info!(parent: span, grpc.method = method, grpc.code = ?code, latency_ms, "grpc request");
            }
        }
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.done {
            self.end(Code::Cancelled);
        }
    }
}

fn grpc_status(headers: &HeaderMap) -> Option<Code> {
    headers.get("grpc-status").map(|value| Code::from_bytes(value.as_bytes()))
}

pin_project! {
    /// The response future of [`super::GrpcTelemetry`].
    pub struct ObservedFuture<F> {
        #[pin]
        inner: F,
        outcome: Option<Outcome>,
    }
}

impl<F> ObservedFuture<F> {
    pub(super) fn new(inner: F, outcome: Outcome) -> Self {
        Self { inner, outcome: Some(outcome) }
    }
}

impl<F, B, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<ObservedBody<B>>, E>;

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
                Ok(response.map(|inner| ObservedBody { inner, outcome }))
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
    /// A response body that ends the call when its trailers go by.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        outcome: Option<Outcome>,
    }
}

impl<B: Body> Body for ObservedBody<B> {
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
