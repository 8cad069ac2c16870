use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::executor::block_on;
use http::HeaderMap;
use http_body::{Body, Frame};
use tower::{Layer as _, ServiceExt as _};

use super::*;
use crate::telemetry::{LogFormat, logs};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The lines written while `f` runs, by this crate's own layers in `format`.
fn captured_as(format: LogFormat, f: impl FnOnce()) -> Vec<String> {
    use tracing_subscriber::layer::SubscriberExt as _;
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || writer.clone());
    let filter = tracing_subscriber::EnvFilter::new("info");
    let subscriber = tracing_subscriber::registry().with(logs::layers(format, writer, false, filter, None));
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    text.lines().map(str::to_owned).collect()
}

/// The log lines written while `f` runs, with a subscriber of its own.
fn captured(f: impl FnOnce()) -> Vec<String> {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    text.lines().filter(|line| line.contains("grpc request")).map(str::to_owned).collect()
}

/// A response body made of fixed frames.
#[derive(Default)]
struct Frames(VecDeque<Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

fn request(path: &str) -> http::Request<()> {
    http::Request::builder().uri(path).body(()).unwrap()
}

async fn drain<B: Body + Unpin>(mut body: B) {
    while std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await.is_some() {}
}

#[test]
fn a_trailers_only_error_is_logged_with_its_code() {
    let lines = captured(|| {
        let service =
            GrpcTelemetryLayer::server().layer(tower::service_fn(|_req: http::Request<()>| async {
                Ok::<_, Infallible>(tonic::Status::not_found("no such serial").into_http::<Frames>())
            }));
        block_on(async {
            let response =
                service.oneshot(request("/regserial.serial.v1.SerialService/GetSerial")).await.unwrap();
            drain(response.into_body()).await;
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("INFO"), "{}", lines[0]);
    assert!(
        lines[0].contains("grpc.method=\"/regserial.serial.v1.SerialService/GetSerial\""),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("grpc.code=NotFound") && lines[0].contains("latency_ms="), "{}", lines[0]);
}

#[test]
fn a_streamed_response_is_logged_once_its_trailers_pass() {
    let lines = captured(|| {
        let service =
            GrpcTelemetryLayer::server().layer(tower::service_fn(|_req: http::Request<()>| async {
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", "0".parse().unwrap());
                let frames =
                    VecDeque::from([Frame::data(Bytes::from_static(b"x")), Frame::trailers(trailers)]);
                Ok::<_, Infallible>(http::Response::new(Frames(frames)))
            }));
        block_on(async {
            let response = service.oneshot(request("/a.v1.S/M")).await.unwrap();
            drain(response.into_body()).await;
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("grpc.code=Ok"), "{}", lines[0]);
}

#[test]
fn a_call_dropped_before_its_end_is_logged_as_cancelled() {
    let lines = captured(|| {
        let service =
            GrpcTelemetryLayer::server().layer(tower::service_fn(|_req: http::Request<()>| async {
                Ok::<_, Infallible>(http::Response::new(Frames(VecDeque::from([Frame::data(Bytes::new())]))))
            }));
        block_on(async {
            let response = service.oneshot(request("/a.v1.S/M")).await.unwrap();
            drop(response);
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("grpc.code=Cancelled"), "{}", lines[0]);
}

#[test]
fn health_checks_are_logged_at_debug() {
    let lines = captured(|| {
        let service =
            GrpcTelemetryLayer::server().layer(tower::service_fn(|_req: http::Request<()>| async {
                Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Frames>())
            }));
        block_on(async {
            drop(service.oneshot(request("/grpc.health.v1.Health/Check")).await.unwrap());
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("DEBUG"), "{}", lines[0]);
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn traced_call(format: LogFormat) -> Vec<String> {
    crate::telemetry::set_propagator();
    captured_as(format, || {
        let service =
            GrpcTelemetryLayer::server().layer(tower::service_fn(|_req: http::Request<()>| async {
                tracing::warn!("inside the handler");
                Ok::<_, Infallible>(tonic::Status::not_found("no such serial").into_http::<Frames>())
            }));
        let mut call = request("/regserial.serial.v1.SerialService/GetSerial");
        call.headers_mut().insert("traceparent", TRACEPARENT.parse().unwrap());
        block_on(async { drop(service.oneshot(call).await.unwrap()) });
    })
}

#[test]
fn json_lines_of_a_traced_call_carry_its_trace_id_at_the_top() {
    let lines = traced_call(LogFormat::Json);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        let json: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        assert_eq!(json["trace_id"], TRACE_ID, "{line}");
        assert_eq!(json["span"]["otel.name"], "regserial.serial.v1.SerialService/GetSerial", "{line}");
    }
    let json: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(json["fields"]["message"], "grpc request");
    assert_eq!(json["fields"]["grpc.code"], "NotFound");
}

#[test]
fn text_lines_of_a_traced_call_carry_its_trace_id() {
    let lines = traced_call(LogFormat::Text);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        assert!(line.contains(&format!("trace_id={TRACE_ID}")), "{line}");
    }
}

#[test]
fn lines_of_an_untraced_call_have_no_trace_id() {
    let lines = captured_as(LogFormat::Json, || {
        let service =
            GrpcTelemetryLayer::server().layer(tower::service_fn(|_req: http::Request<()>| async {
                Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Frames>())
            }));
        block_on(async { drop(service.oneshot(request("/a.v1.S/M")).await.unwrap()) });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    let json: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert!(json.get("trace_id").is_none(), "{}", lines[0]);
}

#[test]
fn a_client_passes_the_callers_trace_context_on() {
    crate::telemetry::set_propagator();
    let mut sent = HeaderMap::new();
    sent.insert("traceparent", TRACEPARENT.parse().unwrap());
    let caller = crate::telemetry::propagation::extract(&sent);
    let seen = Arc::new(Mutex::new(None));
    let seen_by_service = seen.clone();
    let service = GrpcTelemetryLayer::client().layer(tower::service_fn(move |req: http::Request<()>| {
        *seen_by_service.lock().unwrap() = req.headers().get("traceparent").cloned();
        async { Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Frames>()) }
    }));
    {
        let _attached = caller.attach();
        block_on(async {
            drop(service.oneshot(request("/regserial.serial.v1.SerialService/ClaimSerial")).await.unwrap())
        });
    }
    assert_eq!(seen.lock().unwrap().as_ref().unwrap(), TRACEPARENT);
}

/// What the handler of a call sent with `traceparent` saw, spans being exported: whether a
/// span it opened was handed to the exporter, and the `traceparent` its own call to another
/// service carried.
fn nested_call(traceparent: &str) -> (bool, String) {
    use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
    use opentelemetry_sdk::trace::Sampler;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    crate::telemetry::set_propagator();
    // As `otlp` sets them up: the environment's sampler (by default this one) decides first.
    crate::telemetry::sampling::install(Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))));
    let provider =
        opentelemetry_sdk::trace::SdkTracerProvider::builder().with_sampler(Sampler::AlwaysOn).build();
    let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::sink);
    let filter = tracing_subscriber::EnvFilter::new("info");
    let layers = logs::layers(LogFormat::Text, writer, false, filter, Some(provider.tracer("test")));
    let seen = Arc::new(Mutex::new((false, String::new())));
    let seen_by_handler = seen.clone();
    let service = GrpcTelemetryLayer::server().layer(tower::service_fn(move |_req: http::Request<()>| {
        let seen = seen_by_handler.clone();
        async move {
            let statement = tracing::info_span!(target: crate::telemetry::SPAN_TARGET, "db");
            let exported = statement.context().span().span_context().is_valid();
            let sent = Arc::new(Mutex::new(String::new()));
            let sent_by_client = sent.clone();
            let client =
                GrpcTelemetryLayer::client().layer(tower::service_fn(move |req: http::Request<()>| {
                    let header = req.headers().get("traceparent").map(|v| v.to_str().unwrap().to_owned());
                    *sent_by_client.lock().unwrap() = header.unwrap_or_default();
                    async { Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Frames>()) }
                }));
            drop(client.oneshot(request("/regserial.serial.v1.SerialService/ClaimSerial")).await.unwrap());
            *seen.lock().unwrap() = (exported, sent.lock().unwrap().clone());
            Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Frames>())
        }
    }));
    let mut call = request("/regserial.registration.v1.RegistrationService/CreateRegistration");
    call.headers_mut().insert("traceparent", traceparent.parse().unwrap());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layers), || {
        block_on(async { drop(service.oneshot(call).await.unwrap()) });
    });
    seen.lock().unwrap().clone()
}

#[test]
fn within_a_sampled_call_spans_go_to_the_exporter() {
    let (exported, sent) = nested_call(TRACEPARENT);
    assert!(exported, "the statement's span is the exporter's");
    assert!(sent.starts_with(&format!("00-{TRACE_ID}-")) && sent.ends_with("-01"), "{sent}");
    assert!(!sent.contains("00f067aa0ba902b7"), "the call's own span is the parent sent on: {sent}");
}

#[test]
fn within_an_unsampled_call_nothing_reaches_the_exporter_and_the_decision_is_passed_on() {
    let (exported, sent) = nested_call(&TRACEPARENT.replace("-01", "-00"));
    assert!(!exported, "the statement's span is never handed to the exporter");
    assert!(sent.starts_with(&format!("00-{TRACE_ID}-")) && sent.ends_with("-00"), "{sent}");
    assert!(!sent.contains("00f067aa0ba902b7"), "the call's own span is the parent sent on: {sent}");
}
